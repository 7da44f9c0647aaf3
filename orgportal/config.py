"""One settings object, read from the environment (and `.env`), names as in SPEC §11."""

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration; defaults give the embedded single-process setup."""

    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    database_url: str = "sqlite:///var/orgportal.db"
    redis_url: str | None = None
    public_url: str = "http://localhost:3000"
    mail_dir: Path = Path("var/mail")
    data_dir: Path = Path("var/data")
    smtp_url: str | None = None
    mail_from: str = "orgportal <no-reply@orgportal.localhost>"
    port: int = 3000

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # STRIPE_PRICE_<PLAN>_<INTERVAL> and STRIPE_PRICE_SEAT: Stripe price ids of the catalogue.
    stripe_price_starter_monthly: str = "price_starter_monthly"
    stripe_price_starter_annual: str = "price_starter_annual"
    stripe_price_basic_monthly: str = "price_basic_monthly"
    stripe_price_basic_annual: str = "price_basic_annual"
    stripe_price_professional_monthly: str = "price_professional_monthly"
    stripe_price_professional_annual: str = "price_professional_annual"
    stripe_price_unlimited_monthly: str = "price_unlimited_monthly"
    stripe_price_unlimited_annual: str = "price_unlimited_annual"
    stripe_price_seat: str = "price_seat"
    # Displayed prices in pence (SPEC §6: prices are configuration), e.g.
    # PLAN_PRICES_PENCE='{"starter_monthly": 499}' overrides one; SEAT_PRICE_PENCE=599.
    plan_prices_pence: dict[str, int] = {}
    seat_price_pence: int = 599

    session_days: int = 14
    login_max_failures: int = 5
    login_window_minutes: int = 15

    # REST API (SPEC §8): requests allowed per API key in a sliding window, and the largest
    # request body accepted (API_RATE_LIMIT, API_RATE_WINDOW_SECONDS, API_MAX_BODY_BYTES).
    api_rate_limit: int = 600
    api_rate_window_seconds: float = 60
    api_max_body_bytes: int = 64 * 1024

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The URL with a driver SQLAlchemy 2.1 can use and relative SQLite paths made absolute.

        Relative SQLite paths are resolved against the project root so that Alembic, the
        app and the tests all open the same file whatever their working directory.
        """
        url = self.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{ROOT / url.removeprefix('sqlite:///')}"
        return url

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def files_dir(self) -> Path:
        """Where My Files bytes live (outside Reflex's public upload folder)."""
        return self.resolve(self.data_dir) / "files"

    def resolve(self, path: Path) -> Path:
        """A configured directory, relative paths taken from the project root."""
        return path if path.is_absolute() else ROOT / path


settings = Settings()
