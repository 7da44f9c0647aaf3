"""Projects group links inside one workspace (SPEC §14).

`organization_id` NULL means the Personal Workspace of `user_id`. Names are unique per
workspace, compared case-insensitively: `workspace_key` ("org:<id>" or "user:<id>") and
`name_key` (the casefolded name) carry one unique constraint that works the same on SQLite
and PostgreSQL (a NULL organization_id would not take part in a plain unique constraint).
Deleting a project keeps its links (`Link.project_id` is set to NULL).
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow

PROJECT_NAME_MAX = 80
PROJECT_DESCRIPTION_MAX = 500


def workspace_key(organization_id: int | None, user_id: int) -> str:
    """The key of the workspace a project lives in."""
    return f"org:{organization_id}" if organization_id is not None else f"user:{user_id}"


class Project(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("workspace_key", "name_key", name="uq_project_workspace_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    # The Personal Workspace owner; NULL for an organization's project.
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    workspace_key: str = Field(max_length=32)
    name: str = Field(max_length=PROJECT_NAME_MAX)
    name_key: str = Field(max_length=PROJECT_NAME_MAX)
    description: str = Field(default="", max_length=PROJECT_DESCRIPTION_MAX)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
