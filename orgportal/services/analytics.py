"""Analytics of a workspace (SPEC §14): read only from the daily rollups.

Every figure comes from `click_rollup` (one row per link, day, dimension and value), never
from the click rows, so a page over a link with a million clicks reads about as many rows
as one over a hundred: a few per day per dimension. Every member may read them, Viewers
included; another workspace's link or project reads as missing.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, union_all
from sqlmodel import Session, col, select

from orgportal import routes
from orgportal.models import ClickRollup, Link, Project, User
from orgportal.models.analytics import DIMENSIONS, TOTAL, WEEKLY, week_of
from orgportal.models.base import utcnow
from orgportal.models.project import workspace_key
from orgportal.services.errors import NotFound, ValidationFailed
from orgportal.services.permissions import Permission, in_workspace, require, require_workspace

RANGES = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10
NO_PROJECT = "No project"
UNKNOWN = {"referrer": "Direct / none", "country": "Unknown"}


@dataclass
class Figure:
    """Clicks (and what they converted to) of one day, link, project or dimension value."""

    label: str
    clicks: int = 0
    conversions: int = 0
    value: float = 0.0
    key: int | str = ""

    @property
    def rate(self) -> float:
        """Conversions per click, 0–1 (several conversion names per click can pass 1)."""
        return self.conversions / self.clicks if self.clicks else 0.0


@dataclass
class Day:
    day: date
    clicks: int = 0
    bots: int = 0
    conversions: int = 0
    value: float = 0.0


@dataclass
class Report:
    start: date
    end: date
    days: list[Day]
    clicks: int = 0
    bots: int = 0
    conversions: int = 0
    value: float = 0.0
    links: list[Figure] = field(default_factory=list)
    projects: list[Figure] = field(default_factory=list)
    dimensions: dict[str, list[Figure]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.conversions / self.clicks if self.clicks else 0.0


@dataclass(frozen=True)
class Scope:
    """Which rollup rows a report reads: one workspace, optionally one project or link."""

    organization_id: int | None
    user_id: int
    project_id: int | None = None
    link_id: int | None = None

    def where(self, start: date, end: date, dimension_clause):
        """Rows of this scope from `start` to `end` (by their `day`) matching the clause."""
        return self.rows(
            col(ClickRollup.day) >= start, col(ClickRollup.day) <= end, dimension_clause
        )

    def rows(self, *conditions):
        clauses = list(conditions)
        if self.link_id is not None:  # checked to be in the workspace: the link says enough
            clauses.append(ClickRollup.link_id == self.link_id)
        elif self.organization_id is not None:
            clauses.append(ClickRollup.organization_id == self.organization_id)
        else:
            clauses += [
                col(ClickRollup.organization_id).is_(None),
                ClickRollup.owner_id == self.user_id,
            ]
        if self.project_id is not None:
            in_project = select(Link.id).where(Link.project_id == self.project_id)
            clauses.append(col(ClickRollup.link_id).in_(in_project))
        return and_(*clauses)


def date_range(
    days: int | None = None, start: date | None = None, end: date | None = None
) -> tuple[date, date]:
    """`start`..`end` (inclusive, UTC days); by default the last `days` (30) days up to today.
    More than a year, or a start after the end, is refused."""
    today = utcnow().date()
    end = end or today
    try:
        start = start or end - timedelta(days=(days or DEFAULT_DAYS) - 1)
    except OverflowError:  # e.g. to=0001-01-02 without a start
        raise ValidationFailed({"from": "Choose a start date."}) from None
    if start > end:
        raise ValidationFailed({"from": "The start date must not be after the end date."})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed({"from": f"Choose at most {MAX_DAYS} days."})
    return start, end


def requested_range(start: date | None, end: date | None) -> tuple[date, date]:
    """A range asked for over the API, made valid rather than refused (the answer says which
    days it covers): the ends in order, at most MAX_DAYS days, ending at `end` (today)."""
    end = end or utcnow().date()
    if start is not None and start > end:
        start, end = end, start

    def back(days: int) -> date:
        return end - timedelta(days=days - 1) if end.toordinal() >= days else date.min

    return max(start or back(DEFAULT_DAYS), back(MAX_DAYS)), end


def workspace_report(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    start: date,
    end: date,
    project_id: int | None = None,
    link_id: int | None = None,
) -> Report:
    scope = _scope(session, user, organization_id, project_id, link_id)
    return _report(session, scope, start, end)


def link_report(session: Session, *, user: User, link_id: int, start: date, end: date) -> Report:
    """One link's figures, for a member of its workspace (its owner for a personal link)."""
    link = session.get(Link, link_id)
    if link is None:
        raise NotFound("Link not found.")
    if link.organization_id is None:
        if link.owner_id != user.id:
            raise NotFound("Link not found.")
    else:
        try:
            require(session, user, link.organization_id, Permission.VIEW)
        except NotFound:
            raise NotFound("Link not found.") from None
    scope = Scope(link.organization_id, user.id, link_id=link.id)
    return _report(session, scope, start, end)


def _scope(
    session: Session,
    user: User,
    organization_id: int | None,
    project_id: int | None,
    link_id: int | None,
) -> Scope:
    require_workspace(session, user, organization_id, Permission.VIEW)
    key = workspace_key(organization_id, user.id)
    if project_id is not None:
        project = session.get(Project, project_id)
        if project is None or project.workspace_key != key:
            raise NotFound("Project not found.")
    if link_id is not None:
        link = session.get(Link, link_id)
        if link is None or not in_workspace(link, user, organization_id):
            raise NotFound("Link not found.")
    return Scope(organization_id, user.id or 0, project_id, link_id)


def find_link(session: Session, *, user: User, organization_id: int | None, slug: str) -> Link:
    """A link of the workspace by its slug (the page's link filter)."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    link = session.exec(select(Link).where(Link.slug == slug.strip().lower())).first()
    if link is None or not in_workspace(link, user, organization_id):
        raise NotFound(f"No link /{slug.strip()} in this workspace.")
    return link


def _report(session: Session, scope: Scope, start: date, end: date) -> Report:
    total_rows = scope.where(start, end, ClickRollup.dimension == TOTAL)
    sums = (
        func.sum(ClickRollup.clicks),
        func.sum(ClickRollup.bots),
        func.sum(ClickRollup.conversions),
        func.sum(ClickRollup.conversion_value),
    )
    by_day = {
        _as_date(day): Day(_as_date(day), int(c or 0), int(b or 0), int(n or 0), float(v or 0))
        for day, c, b, n, v in session.exec(
            select(ClickRollup.day, *sums).where(total_rows).group_by(ClickRollup.day)
        ).all()
    }
    days = [by_day.get(d) or Day(d) for d in _each_day(start, end)]
    report = Report(start, end, days)
    report.clicks = sum(d.clicks for d in days)
    report.bots = sum(d.bots for d in days)
    report.conversions = sum(d.conversions for d in days)
    report.value = sum(d.value for d in days)
    report.links = _top_links(session, total_rows, sums)
    report.projects = _top_projects(session, total_rows, sums)
    report.dimensions = _dimensions(session, scope, start, end)
    return report


def _top_links(session: Session, total_rows, sums) -> list[Figure]:
    clicks = func.sum(ClickRollup.clicks)
    rows = session.exec(
        select(ClickRollup.link_id, sums[0], sums[2], sums[3])
        .where(total_rows)
        .group_by(ClickRollup.link_id)
        .order_by(clicks.desc(), ClickRollup.link_id)
        .limit(TOP)
    ).all()
    slugs = dict(
        session.exec(select(Link.id, Link.slug).where(col(Link.id).in_([r[0] for r in rows]))).all()
    )
    return [
        Figure(routes.short_link(slugs.get(i, "?")), int(c or 0), int(n or 0), float(v or 0), i)
        for i, c, n, v in rows
    ]


def _top_projects(session: Session, total_rows, sums) -> list[Figure]:
    rows = session.exec(
        select(Link.project_id, sums[0], sums[2], sums[3])
        .join(Link, col(Link.id) == ClickRollup.link_id)
        .where(total_rows)
        .group_by(Link.project_id)
    ).all()
    names = dict(
        session.exec(
            select(Project.id, Project.name).where(
                col(Project.id).in_([r[0] for r in rows if r[0]])
            )
        ).all()
    )
    figures = [
        Figure(names.get(p, NO_PROJECT) if p else NO_PROJECT, int(c or 0), int(n or 0),
               float(v or 0), p or 0)
        for p, c, n, v in rows
    ]  # fmt: skip
    figures.sort(key=lambda f: (-f.clicks, f.label))
    return figures[:TOP]


def _dimensions(session: Session, scope: Scope, start: date, end: date) -> dict[str, list[Figure]]:
    """Clicks per referrer, browser, … over the range: the weekly rows of the weeks that lie
    wholly inside it, and the daily rows of the days before and after them."""
    one_day = timedelta(days=1)
    first = start + timedelta(days=(7 - start.weekday()) % 7)  # the first whole week's Monday
    last = week_of(end) if end.weekday() == 6 else week_of(end) - timedelta(days=7)
    if first <= last:
        parts = [
            (DIMENSIONS, start, first - one_day),
            (tuple(WEEKLY.values()), first, last),
            (DIMENSIONS, last + timedelta(days=7), end),
        ]
    else:
        parts = [(DIMENSIONS, start, end)]
    # one index range per part (link or organization, dimension, day): never the whole history
    selects = [
        select(ClickRollup.dimension, ClickRollup.value, ClickRollup.clicks).where(
            scope.where(since, until, col(ClickRollup.dimension).in_(names))
        )
        for names, since, until in parts
        if since <= until
    ]
    wanted = union_all(*selects).subquery() if len(selects) > 1 else selects[0].subquery()
    rows = session.exec(
        select(wanted.c.dimension, wanted.c.value, func.sum(wanted.c.clicks)).group_by(
            wanted.c.dimension, wanted.c.value
        )
    ).all()
    sums: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for name, value, clicks in rows:
        name = name.removeprefix("w:")
        sums[name][value] = sums[name].get(value, 0) + int(clicks or 0)
    found: dict[str, list[Figure]] = {}
    for name, values in sums.items():
        figures = [
            Figure(value or UNKNOWN.get(name, "Unknown"), clicks, key=value)
            for value, clicks in values.items()
        ]
        figures.sort(key=lambda f: (-f.clicks, f.label))
        found[name] = figures[:TOP]
    return found


def export_csv(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    start: date,
    end: date,
    project_id: int | None = None,
    link_id: int | None = None,
) -> str:
    """The selected range as CSV: one line per day and link with clicks (bots apart) and the
    conversions attributed to them."""
    scope = _scope(session, user, organization_id, project_id, link_id)
    rows = session.exec(
        select(
            ClickRollup.day,
            Link.slug,
            Link.project_id,
            func.sum(ClickRollup.clicks),
            func.sum(ClickRollup.bots),
            func.sum(ClickRollup.conversions),
            func.sum(ClickRollup.conversion_value),
        )
        .join(Link, col(Link.id) == ClickRollup.link_id)
        .where(scope.where(start, end, ClickRollup.dimension == TOTAL))
        .group_by(ClickRollup.day, Link.slug, Link.project_id)
        .order_by(ClickRollup.day, Link.slug)
    ).all()
    names = dict(
        session.exec(
            select(Project.id, Project.name).where(
                col(Project.id).in_({r[2] for r in rows if r[2]})
            )
        ).all()
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["date", "link", "project", "clicks", "bot_visits", "conversions", "conversion_value"]
    )
    for day, slug, project_id, clicks, bots, conversions, value in rows:
        writer.writerow(
            [
                _as_date(day).isoformat(),
                routes.short_link(slug),
                _csv_text(names.get(project_id, "") if project_id else ""),
                int(clicks or 0),
                int(bots or 0),
                int(conversions or 0),
                f"{float(value or 0):.2f}",
            ]
        )
    return out.getvalue()


def project_click_counts(session: Session, project_ids: list[int]) -> list[tuple[int, int]]:
    """All-time clicks per project (the Projects list), from the rollups."""
    if not project_ids:
        return []
    rows = session.exec(
        select(Link.project_id, func.sum(ClickRollup.clicks))
        .join(Link, col(Link.id) == ClickRollup.link_id)
        .where(ClickRollup.dimension == TOTAL, col(Link.project_id).in_(project_ids))
        .group_by(Link.project_id)
    ).all()
    return [(int(p), int(c or 0)) for p, c in rows]


def _csv_text(value: str) -> str:
    """No spreadsheet formulas from user-chosen names (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _each_day(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value
