"""Accounts, their sign-in sessions, confirmation tokens and sign-in attempts."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import new_public_id, utcnow


class User(SQLModel, table=True):
    # Never reuse a deleted account's id on SQLite: audit events name their actor by id
    # without a foreign key (migration 0007).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # What the REST API calls the user (`user_…`, SPEC §8); nullable in the schema only,
    # as `Organization.public_id`.
    public_id: str | None = Field(
        default_factory=lambda: new_public_id("user_"), max_length=24, unique=True, index=True
    )
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    first_name: str = Field(max_length=80)
    last_name: str = Field(max_length=80)
    email_confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The workspace the user last chose (SPEC §1): a new session opens it while they are
    # still a member; None is the Personal Workspace. No foreign key (adding one would
    # rebuild this table on SQLite): every read checks the membership instead.
    last_org_id: int | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class UserSession(SQLModel, table=True):
    """A browser sign-in. Only the token's hash is stored; the active workspace lives here
    (a new session starts in the user's `last_org_id`)."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    active_org_id: int | None = Field(
        default=None, foreign_key="organization.id", ondelete="SET NULL"
    )
    # SPEC §13 (/account → Sessions): when it was last used (at most once a minute), and the
    # browser and address that opened it.
    last_seen_at: datetime | None = None
    user_agent: str = Field(default="", max_length=512)
    client_address: str = Field(default="", max_length=64)
    # SPEC §16: the organization whose identity provider signed this session in (None for a
    # password or passkey sign-in). Turning on its Enforce SSO ends its people's other
    # sessions and keeps these. A plain integer: a session outlives nothing it names.
    sso_organization_id: int | None = None


class UserToken(SQLModel, table=True):
    """Single-use tokens sent by mail or handed to the browser (email confirmation, sign-in)."""

    __tablename__ = "user_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    # For sign-in tickets: the workspace the new session opens in (e.g. a joined organization).
    organization_id: int | None = None
    # For sign-in tickets: the organization whose identity provider vouched (its session's
    # `sso_organization_id`).
    sso_organization_id: int | None = None
    # For email-change links: the address that becomes the account's email once it is used.
    new_email: str = Field(default="", max_length=254)


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept to throttle brute force per email."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    succeeded: bool = False
    at: datetime = Field(default_factory=utcnow, index=True)
