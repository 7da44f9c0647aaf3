"""Organizations (with business details and settings) and their memberships."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import new_public_id, utcnow


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BILLING_ADMIN = "billing_admin"
    AGENT = "agent"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title()


class Organization(SQLModel, table=True):
    # Never reuse a deleted organization's id on SQLite: rows without a foreign key (audit
    # events, test-mode billing, sign-in tickets) still name it (migration 0007).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # What the REST API calls it (`org_…`, SPEC §8). Nullable in the schema only: making
    # it NOT NULL on SQLite means a table rebuild, which loses AUTOINCREMENT (see 0007);
    # every row gets one on insert and migration 0023 filled the older ones.
    public_id: str | None = Field(
        default_factory=lambda: new_public_id("org_"), max_length=24, unique=True, index=True
    )
    name: str = Field(max_length=80)
    slug: str = Field(max_length=120, unique=True, index=True)
    description: str = Field(default="", max_length=500)
    logo_url: str = Field(default="", max_length=500)

    address: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100)
    postcode: str = Field(default="", max_length=20)
    country: str = Field(default="", max_length=2)
    phone: str = Field(default="", max_length=32)
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=300)
    vat_number: str = Field(default="", max_length=32)
    registration_number: str = Field(default="", max_length=64)

    allow_members_to_invite: bool = False
    require_approval_for_links: bool = False
    default_attribution_window: int = 168
    # What the workspace is for and who to ask about it (seed 003's "Document Organization
    # Purpose"): free notes for people, set through the REST API's settings.
    purpose: str = Field(default="", max_length=80)
    contact_email: str = Field(default="", max_length=254)

    stripe_customer_id: str = Field(default="", max_length=255)

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    joined_at: datetime = Field(default_factory=utcnow)
    # When the user last opened this organization as their workspace (SPEC §1): the
    # switcher lists the most recent first; None: never opened (listed after, by name).
    last_used_at: datetime | None = None
