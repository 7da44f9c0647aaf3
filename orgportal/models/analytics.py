"""Clicks, their daily rollups and conversions (SPEC §14).

`Click` is one followed short link: no raw IP address, only what the analytics show
(referrer host, browser / OS / device class, country from a trusted header) and a random
first-party visitor id. Bots are stored apart (`is_bot`) and never counted as clicks.
`token` is the unguessable click id handed out as `op_click`, never the row id.

`ClickRollup` holds the daily figures the analytics read, one row per (link, day,
dimension, value): dimension `total` (value "") carries clicks, bot visits and the
conversions attributed to that day's clicks; `referrer`, `browser`, `os`, `device` and
`country` carry clicks per value, per day and again per week (`w:referrer`, …).
`organization_id` / `owner_id` repeat the link's
workspace, so a workspace's figures are read without touching the link table. Every row
goes with its link, and with its organization (ON DELETE CASCADE).
"""

from datetime import date, datetime, timedelta

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow

DIMENSIONS = ("referrer", "browser", "os", "device", "country")
TOTAL = "total"
# Each dimension is also rolled up per ISO week (`day` = its Monday), so a 90-day report
# reads about 13 weekly rows per value plus the odd days at either end, not 90 daily ones.
WEEKLY = {d: f"w:{d}" for d in DIMENSIONS}


def week_of(day: date) -> date:
    """The Monday of `day`'s week: the key of the weekly rollup rows."""
    return day - timedelta(days=day.weekday())


class Click(SQLModel, table=True):
    __table_args__ = (Index("ix_click_link_time", "link_id", "clicked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    link_id: int = Field(foreign_key="link.id", ondelete="CASCADE")
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    clicked_at: datetime = Field(default_factory=utcnow)
    referrer_host: str = Field(default="", max_length=255)
    browser: str = Field(default="", max_length=64)
    os: str = Field(default="", max_length=64)
    device: str = Field(default="", max_length=16)
    country: str = Field(default="", max_length=2)
    visitor_id: str = Field(default="", max_length=32)
    is_bot: bool = False


class ClickRollup(SQLModel, table=True):
    __tablename__ = "click_rollup"
    __table_args__ = (
        UniqueConstraint("link_id", "dimension", "day", "value", name="uq_click_rollup_key"),
        Index("ix_click_rollup_org", "organization_id", "dimension", "day"),
        Index("ix_click_rollup_owner", "owner_id", "dimension", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(foreign_key="link.id", ondelete="CASCADE")
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", ondelete="CASCADE"
    )
    owner_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    day: date
    dimension: str = Field(max_length=16)
    value: str = Field(default="", max_length=255)
    clicks: int = 0
    bots: int = 0
    conversions: int = 0
    conversion_value: float = 0.0


class Conversion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("click_id", "name", name="uq_conversion_click_name"),)

    id: int | None = Field(default=None, primary_key=True)
    click_id: int = Field(foreign_key="click.id", ondelete="CASCADE")
    link_id: int = Field(foreign_key="link.id", index=True, ondelete="CASCADE")
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=100)
    value: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
