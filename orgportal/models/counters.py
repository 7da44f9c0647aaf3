"""Usage counters: what each pool holds, so that reading usage is a primary-key
lookup however many links, files and members there are. `services/usage_counters.py` keeps
them in the same transaction as every change and can recompute them from the rows.
"""

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class OrganizationCounter(SQLModel, table=True):
    """An organization's pool: its own items plus the personal items of the members who draw
    on its plan (those whose `PersonalCounter.drawn_by_id` names it)."""

    __tablename__ = "organization_counter"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    links: int = 0
    storage_bytes: int = Field(default=0, sa_type=BigInteger)  # pools may pass 2 GiB


class PersonalCounter(SQLModel, table=True):
    """One user's Personal Workspace items, and the organization whose pool counts them too
    (their effective plan's source; NULL: the user's own pool)."""

    __tablename__ = "personal_counter"

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    links: int = 0
    storage_bytes: int = Field(default=0, sa_type=BigInteger)  # pools may pass 2 GiB
    drawn_by_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="SET NULL"
    )
