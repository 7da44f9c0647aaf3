"""Notification mails (SPEC §17): what each user turned off, and which usage alerts went out.

Every kind of notification is on until its user turns it off, so only the opt-outs are
stored: a new kind reaches everyone without a data migration.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class NotificationOptOut(SQLModel, table=True):
    """One kind of notification mail a user does not want (absent: they get it)."""

    __tablename__ = "notification_opt_out"

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=32, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class UsageAlert(SQLModel, table=True):
    """A usage threshold (80 or 100 % of a limit) already announced for an organization's
    pool in one period (a calendar month, `YYYY-MM`): the primary key makes it once."""

    __tablename__ = "usage_alert"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    metric: str = Field(max_length=16, primary_key=True)  # links | storage
    threshold: int = Field(primary_key=True)  # 80 | 100
    period: str = Field(max_length=7, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
