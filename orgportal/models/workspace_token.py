"""Workspace tokens: short-lived bearer tokens carrying one workspace (SPEC §8).

`POST /api/organizations/{id}/switch` issues one from an API key. It acts as the key's user
in that organization only, for a short while, and leaves the key itself untouched, so other
scripts sharing the key keep their own workspace. Only a SHA-256 of the secret is stored.
Revoking or deleting the key ends its tokens (every use checks the key); deleting the
organization deletes them.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class WorkspaceToken(SQLModel, table=True):
    __tablename__ = "workspace_token"

    id: int | None = Field(default=None, primary_key=True)
    key_id: int = Field(foreign_key="api_key.id", index=True, ondelete="CASCADE")
    # None: the Personal Workspace.
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
