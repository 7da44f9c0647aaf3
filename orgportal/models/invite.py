"""Invitations by email. Only the token's hash is stored; 'expired' is derived from the date."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class InviteStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    status: str = Field(default=InviteStatus.PENDING, max_length=16)
    invited_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    responded_at: datetime | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.status == InviteStatus.PENDING and self.expires_at <= (now or utcnow())
