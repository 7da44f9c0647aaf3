"""SCIM 2.0 provisioning (SPEC §16): an organization's bearer tokens and the users its
identity provider manages.

A token identifies its organization (no person acts through it); only the SHA-256 of the
secret is stored, `prefix` is its harmless start for telling tokens apart. At most one token
of an organization works at a time: generating a new one revokes the old (rotation).

A `ScimUser` is the identity provider's view of one person (`resource`: the SCIM attributes
it sent, as JSON) and the account it was matched to or created for (`user_id`). While it is
`active` that account is a member of the organization; deprovisioning keeps the row (the
provider may turn it back on) but ends the membership. `role` is the one its role group
gives (SPEC §3 roles, never Owner), kept while inactive for when it comes back.
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class ScimToken(SQLModel, table=True):
    __tablename__ = "scim_token"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    # who generated it (for the settings card); audit events name them too
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ScimUser(SQLModel, table=True):
    __tablename__ = "scim_user"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_name_key"),
        UniqueConstraint("organization_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # the resource's SCIM `id`: random, stable, never reused
    public_id: str = Field(max_length=36, unique=True, index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    user_name: str = Field(max_length=254)
    # `userName` is case-insensitive (RFC 7643 §4.1.1): uniqueness and `eq` use this
    user_name_key: str = Field(max_length=254)
    external_id: str = Field(default="", max_length=255)
    active: bool = True
    role: str = Field(max_length=20)
    # the account was created for this provisioning (just in time): its name follows the IdP
    account_created: bool = False
    resource: str = Field(default="{}", max_length=20_000)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ScimDepartment(SQLModel, table=True):
    """What SCIM adds to a department it manages as a group: the provider's `externalId` and
    a version. Departments made on the Support page are groups too, without a row."""

    __tablename__ = "scim_department"

    department_id: int = Field(foreign_key="department.id", primary_key=True, ondelete="CASCADE")
    external_id: str = Field(default="", max_length=255)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
