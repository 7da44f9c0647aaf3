"""API keys for the REST API (SPEC §8).

A key acts as its user, with that user's roles, in the key's own active workspace (like a
browser session, which has its own too). Only a SHA-256 of the secret is stored; `prefix`
is the secret's harmless start, kept so people can tell their keys apart in the list.
Deleting an organization sets `active_org_id` back to NULL: the Personal Workspace.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    active_org_id: int | None = Field(
        default=None, foreign_key="organization.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
