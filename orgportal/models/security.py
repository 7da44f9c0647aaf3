"""Two-factor sign-in (TOTP) of a user and an organization's security settings (SPEC §13)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class TwoFactor(SQLModel, table=True):
    """A user's TOTP secret, encrypted (`services/secret_box.py`). `enabled_at` is None while
    set-up waits for its first code. `last_step` is the newest 30-second step a code was
    accepted for: a code of that step or an older one is refused (no replay)."""

    __tablename__ = "two_factor"

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    secret_box: str = Field(max_length=255)
    enabled_at: datetime | None = None
    last_step: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code; only a hash of it is stored."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = None


class OrganizationSecurity(SQLModel, table=True):
    """An organization's Security card: require two-factor sign-in, and the IP allowlist
    (one normalized network per line; empty: every address)."""

    __tablename__ = "organization_security"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    require_two_factor: bool = False
    ip_allowlist: str = Field(default="", max_length=20_000)
    updated_at: datetime = Field(default_factory=utcnow)
