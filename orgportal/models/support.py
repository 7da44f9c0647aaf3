"""The support desk (SPEC §7): tickets and their numbering, departments, authorized domains,
and the links that let a ticket's requester reply.

A ticket stores its full number string (`ACME-007`), so renaming the prefix never changes
an existing number. Numbers come from one counter row per (organization, prefix), bumped
with a row lock, so they neither repeat nor skip under concurrent creation, and switching
back to an earlier prefix continues where it left off.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow

DEFAULT_TICKET_PREFIX = "TKT"


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SupportSettings(SQLModel, table=True):
    """Per-organization support desk settings; absent means the defaults."""

    __tablename__ = "support_settings"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    ticket_prefix: str = Field(default=DEFAULT_TICKET_PREFIX, max_length=10)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketCounter(SQLModel, table=True):
    """The next number to hand out for one prefix of one organization."""

    __tablename__ = "ticket_counter"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    prefix: str = Field(max_length=10, primary_key=True)
    next_value: int = 1


class Department(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)


class DepartmentMember(SQLModel, table=True):
    __tablename__ = "department_member"

    department_id: int = Field(foreign_key="department.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)


class AuthorizedDomain(SQLModel, table=True):
    """A site allowed to submit tickets; its subdomains are allowed too."""

    __tablename__ = "authorized_domain"
    __table_args__ = (UniqueConstraint("organization_id", "domain"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    domain: str = Field(max_length=253)  # IDNA (punycode), lower case
    created_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        Index("ix_ticket_organization_created", "organization_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    number: str = Field(max_length=24)
    subject: str = Field(max_length=200)
    requester_name: str = Field(max_length=100)
    requester_email: str = Field(max_length=254)
    status: str = Field(default=TicketStatus.OPEN, max_length=16)
    department_id: int | None = Field(
        default=None, foreign_key="department.id", index=True, ondelete="SET NULL"
    )
    source: str = Field(default="web", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class TicketMessage(SQLModel, table=True):
    """One message of a ticket's conversation: the requester's or a staff reply."""

    __tablename__ = "ticket_message"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author_name: str = Field(max_length=200)
    from_requester: bool = False
    body: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow)


class TicketReplyLink(SQLModel, table=True):
    """The link in a staff reply's mail that lets the requester read the conversation and
    answer it (`/support/ticket/<token>`). Only SHA-256 of the token is stored."""

    __tablename__ = "ticket_reply_link"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
