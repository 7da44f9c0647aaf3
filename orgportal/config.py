"""One settings object, read from the environment (and `.env`), names as in SPEC §11."""

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class Settings(BaseSettings):
    """Runtime configuration; defaults give the embedded single-process setup."""

    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    database_url: str = "sqlite:///var/orgportal.db"
    redis_url: str | None = None
    # Empty means http://localhost:$PORT (SPEC §11); set it to the public address in production.
    public_url: str = ""
    # Other origins whose pages may use the cookie-authenticated app (the websocket, uploads,
    # downloads, sign-in routes), comma-separated: ALLOWED_ORIGINS=https://admin.example.com
    allowed_origins: Annotated[list[str], NoDecode] = []
    mail_dir: Path = Path("var/mail")
    data_dir: Path = Path("var/data")
    # Uploaded bytes (My Files, logos): on local disk under DATA_DIR unless STORAGE_URL names
    # an S3-compatible endpoint (AWS, SeaweedFS, MinIO…), which several app machines share.
    storage_url: str = ""
    storage_bucket: str = "orgportal"
    storage_access_key_id: str = ""
    storage_secret_access_key: str = ""
    storage_region: str = "us-east-1"
    smtp_url: str | None = None
    mail_from: str = "orgportal <no-reply@orgportal.localhost>"
    port: int = 3000

    stripe_secret_key: str | None = None
    # Without a Stripe key, test-mode billing runs only for a localhost PUBLIC_URL or with
    # BILLING_TEST_MODE=1, so a misconfigured production never hands out free plans.
    billing_test_mode: bool = False
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

    # The largest single My Files upload (MAX_FILE_BYTES); the pool's free storage may allow less.
    max_file_bytes: int = 50 * 1024 * 1024

    session_days: int = 14
    login_max_failures: int = 5
    login_window_minutes: int = 15

    # Account mails (confirmation, "someone tried to register") per address and per user in
    # any hour (SPEC §13), and how often the outbox tries a message before giving it up.
    mail_throttle_per_hour: int = 3
    mail_max_attempts: int = 8

    # REST API (SPEC §8): requests allowed per API key in a sliding window, and the largest
    # request body accepted (API_RATE_LIMIT, API_RATE_WINDOW_SECONDS, API_MAX_BODY_BYTES).
    api_rate_limit: int = 600
    api_rate_window_seconds: float = 60
    api_max_body_bytes: int = 64 * 1024

    # Per client address, checked before any password is hashed (SPEC §1, §11), generous
    # enough for a whole office behind one NAT address (SPEC §1): FAILED sign-ins (unknown
    # email, wrong password, wrong two-factor code; successes never count), at most
    # SIGNIN_FAILURE_LIMIT per SIGNIN_FAILURE_WINDOW_SECONDS, and registrations, at most
    # REGISTER_RATE_LIMIT per REGISTER_RATE_WINDOW_SECONDS (every one costs a hash).
    signin_failure_limit: int = 100
    signin_failure_window_seconds: float = 15 * 60
    register_rate_limit: int = 200
    register_rate_window_seconds: float = 60 * 60
    # Reverse proxies whose X-Forwarded-For is believed: TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1
    # (IPs or CIDRs, comma-separated). Empty: the client address is the connection's peer.
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = []
    # Encrypts stored two-factor secrets (SECRET_KEY, any long random string). Unset: a random
    # key made once in DATA_DIR/secret.key (keep it out of database backups).
    secret_key: str | None = None

    # Click recording (SPEC §14): COUNTRY_HEADER names a header your proxy/CDN sets with the
    # visitor's ISO country (e.g. CF-IPCountry; empty: no country recorded; only trust it
    # behind a proxy that overwrites it). CLICK_RECORDING: `queued` (written in batches by a
    # background thread every CLICK_FLUSH_SECONDS, so the redirect never waits for the
    # database), `inline` (in the redirect's own transaction) or `off`.
    country_header: str = ""
    click_recording: Literal["queued", "inline", "off"] = "queued"
    click_flush_seconds: float = 0.2

    # Branded short-link domains (SPEC §15): the DNS server asked for the `_orgportal.<domain>`
    # TXT records, as `host` or `host:port` (DNS_RESOLVER=127.0.0.1:5353); empty: the system's.
    dns_resolver: str = ""
    # What a custom domain's CNAME record points at (CNAME_TARGET, a host name such as
    # links.orgportal.com); empty: PUBLIC_URL's host. Shown on the Domains page.
    cname_target: str = ""
    # How often domains still waiting for their DNS records (their first 48 hours) are looked
    # up again in the background (PENDING_DOMAIN_RECHECK_SECONDS); verified ones stay daily.
    pending_domain_recheck_seconds: float = 300

    # Outgoing webhooks (SPEC §17) go only to public addresses, over https. For tests and
    # local development, WEBHOOKS_ALLOW_PRIVATE_TARGETS=1 lets loopback, private and
    # link-local addresses (and plain http://) through. Never set it in production.
    webhooks_allow_private_targets: bool = False

    # Operating it (SPEC §18): LOG_LEVEL of the app's JSON log lines (DEBUG, INFO,
    # WARNING, ERROR). /metrics answers only when METRICS_TOKEN (required as
    # `Authorization: Bearer <token>`) and/or METRICS_ALLOWED_ADDRESSES (IPs or CIDRs,
    # comma-separated; the client's address as TRUSTED_PROXIES resolve it) is set; else 404.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    metrics_token: str = ""
    metrics_allowed_addresses: Annotated[list[IPvAnyNetwork], NoDecode] = []

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("trusted_proxies", "metrics_allowed_addresses", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _default_public_url(self) -> "Settings":
        self.public_url = (self.public_url or f"http://localhost:{self.port}").rstrip("/")
        return self

    @property
    def own_origins(self) -> list[str]:
        """The origins whose pages may drive a signed-in session: PUBLIC_URL's, its loopback
        twins when it is a local address (a developer may open 127.0.0.1 instead of
        localhost), and ALLOWED_ORIGINS."""
        parts = urlsplit(self.public_url)
        own = [f"{parts.scheme}://{parts.netloc}"]
        if parts.hostname in LOOPBACK_HOSTS:
            port = f":{parts.port}" if parts.port else ""
            own += [f"{parts.scheme}://{host}{port}" for host in LOOPBACK_NAMES]
        return list(dict.fromkeys(own + self.allowed_origins))

    @property
    def browser_cookie(self) -> str:
        """The sign-in nonce cookie (login CSRF); `__Host-` on https, so no other subdomain
        or port can plant one."""
        return "__Host-orgportal_browser" if self.secure_cookies else "orgportal_browser"

    @property
    def cname_host(self) -> str:
        """The CNAME target custom domains point at: CNAME_TARGET, else PUBLIC_URL's host."""
        target = self.cname_target.strip().lower()
        if "://" in target:  # a URL given where a host was meant
            target = urlsplit(target).hostname or ""
        return target.rstrip(".") or (urlsplit(self.public_url).hostname or "localhost")

    @property
    def is_local(self) -> bool:
        return urlsplit(self.public_url).hostname in LOOPBACK_HOSTS

    @property
    def test_mode_billing_allowed(self) -> bool:
        return self.billing_test_mode or self.is_local

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
