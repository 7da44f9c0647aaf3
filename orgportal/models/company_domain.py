"""Company domains (SPEC §16): the email domains that say who an organization's people are.

Not to be confused with *authorized domains* (websites that may post tickets, `support.py`)
or *short-link domains* (branded links, `custom_domain.py`).

Several organizations may add the same domain while it is pending, but only one may hold it
verified: the partial unique index on `domain` where `status = 'verified'` says so to the
database too, so two organizations verifying at the same moment cannot both win.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class JoinPolicy(StrEnum):
    """What happens when someone with a verified domain's address offers to join."""

    OFF = "off"
    AUTOMATIC = "automatic"  # joins at once with the default role
    REQUEST = "request"  # an Owner/Admin approves each request


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"  # by an Owner/Admin
    DISMISSED = "dismissed"  # the person said "Not now" to the offer


class CompanyDomain(SQLModel, table=True):
    __tablename__ = "company_domain"
    __table_args__ = (
        UniqueConstraint("organization_id", "domain"),
        Index(
            "ux_company_domain_verified",
            "domain",
            unique=True,
            sqlite_where=text("status = 'verified'"),
            postgresql_where=text("status = 'verified'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    domain: str = Field(max_length=253, index=True)  # IDNA (punycode), lower case
    token: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=16)  # DomainStatus values
    failure_reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    verified_at: datetime | None = None
    checked_at: datetime | None = None


class CompanyJoinSettings(SQLModel, table=True):
    """One organization's join-by-domain policy (no row: off)."""

    __tablename__ = "company_join_settings"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    policy: str = Field(default=JoinPolicy.OFF, max_length=16)
    default_role: str = Field(default="viewer", max_length=20)
    updated_at: datetime = Field(default_factory=utcnow)


class JoinRequest(SQLModel, table=True):
    """A person with a verified domain's address asking to join (or declining the offer)."""

    __tablename__ = "join_request"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    status: str = Field(default=JoinRequestStatus.PENDING, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
