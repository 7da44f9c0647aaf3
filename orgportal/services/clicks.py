"""Click recording (SPEC §14): what a followed short link leaves behind.

The redirect builds a `Hit` from the request (no raw IP address: the referrer's host, the
User-Agent, a country from the configured trusted header, a random first-party visitor id)
and hands it to `record`, either in its own transaction or, by default, through a queue
written in batches by a process of its own (`store`, run by `adapters/batch_process.py`),
so the visitor never waits for the database. `record` parses the User-Agent with ua-parser (bots kept apart, never counted as
clicks), inserts the click rows and adds them to the daily rollups with one upsert per
batch, then marks the organizations' analytics as changed for the live pages.
"""

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Protocol
from urllib.parse import urlsplit

import ua_parser
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from orgportal import randomness
from orgportal.adapters.live import Change
from orgportal.db import insert_many, mark_changed, unit_of_work
from orgportal.models import Click, ClickRollup, Link, Organization, User
from orgportal.models.analytics import DIMENSIONS, TOTAL, WEEKLY, week_of
from orgportal.models.base import utcnow
from orgportal.services import countries, links

VISITOR_COOKIE = "op_vid"
VISITOR_COOKIE_DAYS = 365
CLICK_PARAM = "op_click"
# Live topics: an organization's analytics, and a Personal Workspace's (by its user id).
TOPIC, PERSONAL_TOPIC = "analytics", "analytics_user"
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"}


@dataclass(frozen=True)
class Hit:
    """One followed link, as the redirect saw it (parsed later, off the redirect's path)."""

    link_id: int
    organization_id: int | None
    owner_id: int
    token: str
    user_agent: str = ""
    referrer: str = ""  # the Referer header as sent (only its host is ever stored)
    country: str = ""
    visitor_id: str = ""
    at: datetime = field(default_factory=utcnow)


class Followable(Protocol):
    """What a click needs of its link: a `Link` row, or the redirect's cached snapshot of one
    (`services/redirect_cache.Redirect`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def organization_id(self) -> int | None: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def target_url(self) -> str: ...
    @property
    def append_click_id(self) -> bool: ...


@dataclass(frozen=True)
class Agent:
    browser: str
    os: str
    device: str  # desktop, mobile, tablet; "bot" for crawlers
    is_bot: bool


def new_visitor_id() -> str:
    return randomness.token_urlsafe(16)


def visitor_id(cookie: str | None) -> tuple[str, bool]:
    """The visitor id from the cookie, or a new one; and whether it is new (set the cookie)."""
    if cookie and _VISITOR_ID.match(cookie):
        return cookie, False
    return new_visitor_id(), True


def country_from(headers: Mapping[str, str], header_name: str) -> str:
    """The ISO country in the trusted header `header_name` (empty name: off), or ""; values
    that are no real country (Cloudflare's XX, T1 for Tor) count as unknown."""
    if not header_name:
        return ""
    value = (headers.get(header_name.lower()) or headers.get(header_name) or "").strip().upper()
    if len(value) != 2 or not value.isalpha():
        return ""
    return value if countries.get(value) else ""


def referrer_host(referrer: str) -> str:
    """Only the host of the Referer header ("" when none or not a web address)."""
    try:
        parts = urlsplit(referrer.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.hostname or "")[:255]


def new_hit(link: Followable, *, user_agent: str, referrer: str, country: str, visitor: str) -> Hit:
    assert link.id is not None
    return Hit(
        link_id=link.id,
        organization_id=link.organization_id,
        owner_id=link.owner_id,
        token=randomness.token_urlsafe(16),  # the op_click id: random, never the row id
        user_agent=user_agent[:1024],
        referrer=referrer[:2048],  # its host is taken when the click is written
        country=country,
        visitor_id=visitor,
    )


def target_for(link: Followable, hit: Hit | None) -> str:
    """Where the redirect goes: the target, plus `op_click=<id>` when the link asks for it
    (the target's own query string and fragment kept)."""
    if not link.append_click_id or hit is None:
        return link.target_url
    base, hash_mark, fragment = link.target_url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{CLICK_PARAM}={hit.token}{hash_mark}{fragment}"


@lru_cache(maxsize=4096)
def describe(user_agent: str) -> Agent:
    """Browser, OS and device class by ua-parser (its regexes are maintained upstream);
    ua-parser's "Spider" device, or no User-Agent at all, is a bot."""
    if not user_agent.strip():
        return Agent("Unknown", "Unknown", "bot", True)
    result = ua_parser.parse(user_agent)
    device = result.device
    if device is not None and device.family == "Spider":
        name = result.user_agent.family if result.user_agent else "Bot"
        return Agent(name[:64], "Unknown", "bot", True)
    browser = result.user_agent.family if result.user_agent else "Other"
    os_name = result.os.family if result.os else "Other"
    return Agent(browser[:64], os_name[:64], _device_class(user_agent, os_name, device), False)


def _device_class(user_agent: str, os_name: str, device: ua_parser.Device | None) -> str:
    family = (device.family if device else "") or ""
    brand = (device.brand if device else "") or ""
    if "iPad" in family or "Tablet" in brand or "Tablet" in user_agent or "Kindle" in family:
        return "tablet"
    if os_name == "Android" and "Mobile" not in user_agent:
        return "tablet"  # Android's convention: phones say "Mobile", tablets do not
    if os_name in _MOBILE_OS or "Mobi" in user_agent:
        return "mobile"
    return "desktop"


def store(hits: list[Hit], resent: bool = False) -> set[Change]:
    """The click writer's work (`api/click_recording.py`, in a process of its own): `record`
    in a transaction of its own; returns the live changes to announce, which the writer's
    worker announces (a writer process hears no bus). `resent`: some of these clicks may
    be stored already (a writer died before answering), they are skipped."""
    changes: set[Change] = set()
    with unit_of_work(announce=changes.update) as session:
        record(session, hits, skip_stored=resent)
    return changes


def record(session: Session, hits: Sequence[Hit], *, skip_stored: bool = False) -> int:
    """Store a batch of clicks and add them to the daily rollups; returns the clicks counted
    (bots excluded). Links deleted meanwhile are skipped; with `skip_stored`, clicks whose
    token is stored already (a batch sent again) too."""
    if skip_stored and hits:
        token = Click.__table__.c.token
        stored = set(
            session.connection()
            .execute(
                token.table.select()
                .with_only_columns(token)
                .where(token.in_([h.token for h in hits]))
            )
            .scalars()
        )
        hits = [h for h in hits if h.token not in stored]
    if not hits:
        return 0
    live = {
        row[0]
        for row in session.connection().execute(
            Link.__table__.select()
            .with_only_columns(Link.__table__.c.id)
            .where(Link.__table__.c.id.in_({h.link_id for h in hits}))
        )
    }
    rows, increments = [], defaultdict(lambda: [0, 0])
    organizations, owners = set(), set()
    for hit in hits:
        if hit.link_id not in live:
            continue
        agent = describe(hit.user_agent)
        referrer = referrer_host(hit.referrer)
        rows.append(
            {
                "token": hit.token,
                "link_id": hit.link_id,
                "organization_id": hit.organization_id,
                "owner_id": hit.owner_id,
                "clicked_at": hit.at,
                "referrer_host": referrer,
                "browser": agent.browser,
                "os": agent.os,
                "device": agent.device,
                "country": hit.country,
                "visitor_id": hit.visitor_id,
                "is_bot": agent.is_bot,
            }
        )
        key = (hit.link_id, hit.organization_id, hit.owner_id, hit.at.date())
        if agent.is_bot:
            increments[(*key, TOTAL, "")][1] += 1
        else:
            values = (referrer, agent.browser, agent.os, agent.device, hit.country)
            increments[(*key, TOTAL, "")][0] += 1
            week = (*key[:3], week_of(key[3]))
            for dimension, value in zip(DIMENSIONS, values, strict=True):
                increments[(*key, dimension, value)][0] += 1
                increments[(*week, WEEKLY[dimension], value)][0] += 1
        if hit.organization_id:
            organizations.add(hit.organization_id)
        else:
            owners.add(hit.owner_id)
    if not rows:
        return 0
    insert_many(session, _INSERT_CLICKS, rows, distinct=True)
    add_to_rollups(
        session,
        [
            {
                "link_id": link_id,
                "organization_id": organization_id,
                "owner_id": owner_id,
                "day": day,
                "dimension": dimension,
                "value": value,
                "clicks": clicks,
                "bots": bots,
            }
            for (link_id, organization_id, owner_id, day, dimension, value), (
                clicks,
                bots,
            ) in increments.items()
        ],
        ("clicks", "bots"),
    )
    mark_changed(session, TOPIC, organizations)
    mark_changed(session, PERSONAL_TOPIC, owners)
    return sum(1 for row in rows if not row["is_bot"])


_INSERT_CLICKS = insert(Click.__table__)


def add_to_rollups(session: Session, rows: list[dict], counters: Sequence[str]) -> None:
    """Many rollup rows in one executemany of one upsert: new keys inserted, existing ones
    incremented by `counters` (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL
    alike). One statement shape per counter set, so SQLAlchemy compiles it once.

    The rows go in the order of the rollup's key: every worker's click writer (and the
    conversions) then locks the rows it shares with another in the same order, where two
    batches naming the same links in different orders deadlocked on PostgreSQL (and the
    batch that lost was dropped after its retry deadlocked too)."""
    if rows:
        dialect = session.get_bind().dialect.name
        rows = sorted(rows, key=_ROLLUP_KEY)
        insert_many(session, _upsert(dialect, tuple(counters)), rows, distinct=True)


_ROLLUP_KEY = itemgetter("link_id", "dimension", "day", "value")  # the conflict key's order


@lru_cache(maxsize=8)
def _upsert(dialect: str, counters: tuple[str, ...]):
    table = ClickRollup.__table__
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["link_id", "dimension", "day", "value"],
        set_={name: table.c[name] + statement.excluded[name] for name in counters},
    )


def set_append_click_id(
    session: Session, *, user: User, organization_id: int | None, link_id: int, enabled: bool
) -> Link:
    """Switch `op_click` on or off for a link of the active workspace: its creator, or an
    Owner/Admin of the organization (like deleting it)."""
    link = links.changeable_link(session, user, organization_id, link_id)
    link.append_click_id = enabled
    session.add(link)
    session.flush()
    return link


def attribution_window_hours(session: Session, organization_id: int | None) -> int:
    """The organization's `default_attribution_window` (hours); the Personal Workspace uses
    the organizations' default."""
    if organization_id is None:
        return Organization.model_fields["default_attribution_window"].default
    organization = session.get(Organization, organization_id)
    return organization.default_attribution_window if organization else 0
