"""What consumes a plan's pool (SPEC §7): short links and My Files.

`organization_id` NULL means the owner's Personal Workspace. Indexes match the two pool
queries: items of an organization, and personal items of a set of owners.
"""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class Link(SQLModel, table=True):
    __table_args__ = (Index("ix_link_owner_workspace", "owner_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    owner_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    slug: str = Field(max_length=64, unique=True, index=True)
    target_url: str = Field(max_length=2048)
    created_at: datetime = Field(default_factory=utcnow)
    # SPEC §14: the link's project (same workspace; NULL = no project) and approval. A
    # pending link counts toward usage but does not redirect until an Owner/Admin approves.
    project_id: int | None = Field(
        default=None, foreign_key="project.id", index=True, ondelete="SET NULL"
    )
    pending_approval: bool = Field(default=False, index=True)
    approved_at: datetime | None = None
    approved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # SPEC §14: the redirect adds `op_click=<click id>` to the target (conversion attribution).
    append_click_id: bool = False
    # SPEC §15: the branded domain the link is shared on (NULL, or once the domain is removed:
    # the app's own host).
    custom_domain_id: int | None = Field(
        default=None, foreign_key="custom_domain.id", index=True, ondelete="SET NULL"
    )


class StoredFile(SQLModel, table=True):
    """An uploaded file; the bytes live under DATA_DIR/files/<storage_key>, never public."""

    __tablename__ = "stored_file"
    __table_args__ = (Index("ix_stored_file_owner_workspace", "owner_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    owner_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    storage_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
