"""Organization API keys (SPEC §17): service accounts owned by an organization.

A key belongs to its organization, not to the member who made it (`created_by_id` only
remembers who, and is SET NULL when that account goes), so it keeps working whoever
leaves. It acts through `service_user_id`, a user row of its own that can never sign in
and has no membership: the permission layer grants it its scopes in its one organization
(`services/organization_keys.py`). Only a SHA-256 of the secret is stored; `prefix` is
its harmless start, to tell keys apart. `scopes` is a comma-separated list of scope codes.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class OrganizationApiKey(SQLModel, table=True):
    __tablename__ = "organization_api_key"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    service_user_id: int = Field(foreign_key="user.id", unique=True, index=True, ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    name: str = Field(max_length=80)
    scopes: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    rotated_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_address: str = Field(default="", max_length=64)
    revoked_at: datetime | None = None
