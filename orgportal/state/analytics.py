"""/analytics: the active workspace's clicks and conversions (SPEC §14).

Filters live in the URL (`?days=7&project=3&link=spring-sale`), so the page can be shared
and reloaded; its load reads them and fills everything from the daily rollups
(`services/analytics.py`). The page is live: clicks mark their organization's `analytics`
topic on the live bus (the Personal Workspace's: `analytics_user` by user id), and each
worker reloads the open analytics pages it serves (`live.reload_shown`), at most once a
second per workspace however many clicks arrive (a burst becomes one refresh, with a
trailing one: `live.follows(..., every=MIN_PUSH_INTERVAL)`).
"""

import dataclasses
from typing import ClassVar
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.services import analytics, projects
from orgportal.services.accounts import Viewer
from orgportal.services.analytics import Figure, Report
from orgportal.services.errors import DomainError
from orgportal.state import live
from orgportal.state.base import AppState
from orgportal.state.outcome import Form

RANGE_LABELS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
ALL_PROJECTS = "All projects"
MIN_PUSH_INTERVAL = 1.0  # seconds between two refreshes of one workspace's pages
PAGE = TOPIC = "analytics"  # by organization id (services/clicks.py TOPIC)
PERSONAL_TOPIC = "analytics_user"  # the Personal Workspace's, by user id


@dataclasses.dataclass
class FigureRow:
    label: str
    clicks: str
    conversions: str = ""
    rate: str = ""
    share: str = ""


@dataclasses.dataclass
class DayRow:
    date: str
    clicks: int
    bots: int
    conversions: int


@live.follows(PAGE, TOPIC, PERSONAL_TOPIC, every=MIN_PUSH_INTERVAL)
class AnalyticsState(AppState):
    range_label: str = RANGE_LABELS[analytics.DEFAULT_DAYS]
    project_filter: str = ALL_PROJECTS
    project_names: list[str] = []
    link_filter: str = ""  # a slug, "" for every link
    link_errors: dict[str, str] = {}
    link_form_key: int = 0
    LINK_FORM: ClassVar[Form] = Form(errors="link_errors", general="link")
    error: str = ""
    period: str = ""
    clicks: int = 0
    bots: int = 0
    conversions: int = 0
    conversion_rate: str = "0%"
    conversion_value: str = "£0.00"
    series: list[dict] = []
    day_rows: list[DayRow] = []
    top_links: list[FigureRow] = []
    top_projects: list[FigureRow] = []
    referrers: list[FigureRow] = []
    browsers: list[FigureRow] = []
    systems: list[FigureRow] = []
    devices: list[FigureRow] = []
    countries: list[FigureRow] = []
    _days: int = analytics.DEFAULT_DAYS
    _project_ids: dict[str, int] = {}
    _project_id: int = 0

    @rx.var
    def range_labels(self) -> list[str]:
        return list(RANGE_LABELS.values())

    @rx.var
    def project_filters(self) -> list[str]:
        return [ALL_PROJECTS, *self.project_names]

    @rx.var
    def chart_label(self) -> str:
        clicks = f"{self.clicks:,} click" + ("" if self.clicks == 1 else "s")
        return f"Clicks per day, {self.period}: {clicks} in all. The table below has the numbers."

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if org_id:
            live.watch(self, org_id, topic=TOPIC)
        else:
            live.watch(self, viewer.user.id or 0, topic=PERSONAL_TOPIC)
        query = self._page_query()
        self._days = _int(query.get("days")) if _int(query.get("days")) in RANGE_LABELS else 30
        self.range_label = RANGE_LABELS[self._days]
        choices = projects.project_choices(session, user=viewer.user, organization_id=org_id)
        self._project_ids = {name: key for key, name in choices}
        self.project_names = [name for _, name in choices]
        project_id = _int(query.get("project"))
        self._project_id = project_id if project_id in self._project_ids.values() else 0
        self.project_filter = next(
            (n for n, i in self._project_ids.items() if i == self._project_id), ALL_PROJECTS
        )
        self.link_filter = str(query.get("link", ""))[:64]
        try:
            link_id = None
            if self.link_filter:
                link_id = analytics.find_link(
                    session, user=viewer.user, organization_id=org_id, slug=self.link_filter
                ).id
            start, end = analytics.date_range(self._days)
            report = analytics.workspace_report(
                session,
                user=viewer.user,
                organization_id=org_id,
                start=start,
                end=end,
                project_id=self._project_id or None,
                link_id=link_id,
            )
        except DomainError as exc:
            self.error, self.series, self.day_rows = exc.message, [], []
            return
        self.error = ""
        self._show(report)

    def _show(self, report: Report) -> None:
        self.period = f"{formatting.date(report.start)} to {formatting.date(report.end)}"
        self.clicks, self.bots, self.conversions = report.clicks, report.bots, report.conversions
        self.conversion_rate = _percent(report.rate)
        self.conversion_value = money(report.value)
        self.series = [
            {"day": f"{d.day.day} {d.day:%b}", "Clicks": d.clicks, "Conversions": d.conversions}
            for d in report.days
        ]
        self.day_rows = [
            DayRow(formatting.date(d.day), d.clicks, d.bots, d.conversions)
            for d in reversed(report.days)
        ]
        self.top_links = [_with_rate(f) for f in report.links]
        self.top_projects = [_with_rate(f) for f in report.projects]
        dims = report.dimensions
        self.referrers = _shares(dims.get("referrer", []), report.clicks)
        self.browsers = _shares(dims.get("browser", []), report.clicks)
        self.systems = _shares(dims.get("os", []), report.clicks)
        self.devices = _shares(dims.get("device", []), report.clicks)
        self.countries = _shares(dims.get("country", []), report.clicks)

    def _still_shows(self, topic: str, key: int) -> bool:
        """Is this tab still on /analytics (live refresh)?"""
        return (self.router.url.path or "").rstrip("/") == routes.ANALYTICS

    def _url(self, days: int, project_id: int, link: str) -> str:
        query: dict[str, str | int] = {}
        if days != analytics.DEFAULT_DAYS:
            query["days"] = days
        if project_id:
            query["project"] = project_id
        if link:
            query["link"] = link
        return f"{routes.ANALYTICS}?{urlencode(query)}" if query else routes.ANALYTICS

    @rx.event
    def set_range(self, label: str):
        days = next((d for d, text in RANGE_LABELS.items() if text == label), 30)
        self.range_label = RANGE_LABELS[days]
        return rx.redirect(self._url(days, self._project_id, self.link_filter))

    @rx.event
    def set_project_filter(self, label: str):
        self.project_filter = label if label in self._project_ids else ALL_PROJECTS
        project_id = self._project_ids.get(label, 0)
        return rx.redirect(self._url(self._days, project_id, self.link_filter))

    @rx.event
    def filter_link(self, form: dict):
        """Show one link (by its slug, as in /l/<slug>), if it is in this workspace."""
        slug = str(form.get("link", "")).strip().lower().removeprefix("/l/").strip("/")

        def check(session: Session, viewer: Viewer) -> str:
            if not slug:
                return ""
            return analytics.find_link(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                slug=slug,
            ).slug

        outcome = self._attempt(check, form=self.LINK_FORM, reload=False)
        if not outcome.ok:
            return outcome.events
        return rx.redirect(self._url(self._days, self._project_id, outcome.value))

    @rx.event
    def clear_link_filter(self):
        self.link_errors, self.link_form_key = {}, self.link_form_key + 1
        return rx.redirect(self._url(self._days, self._project_id, ""))

    @rx.event
    def export_csv(self):
        """Export CSV: the selected range, filters applied, one line per day and link."""
        start, end = analytics.date_range(self._days)

        def export(session: Session, viewer: Viewer) -> str:
            link_id = None
            if self.link_filter:
                link_id = analytics.find_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    slug=self.link_filter,
                ).id
            return analytics.export_csv(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                start=start,
                end=end,
                project_id=self._project_id or None,
                link_id=link_id,
            )

        outcome = self._attempt(export, reload=False)
        if not outcome.ok:
            return outcome.events
        return rx.download(
            data=outcome.value, filename=f"analytics-{start}-to-{end}.csv", mime_type="text/csv"
        )


def money(value: float) -> str:
    """A conversion value with its currency: GBP, the currency the organization is
    billed in (SPEC §6); no other currency is recorded for an organization."""
    return f"{'-' if value < 0 else ''}£{abs(value):,.2f}"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%".replace(".0%", "%")


def _with_rate(figure: Figure) -> FigureRow:
    return FigureRow(
        figure.label, f"{figure.clicks:,}", f"{figure.conversions:,}", _percent(figure.rate)
    )


def _shares(figures: list[Figure], total: int) -> list[FigureRow]:
    return [
        FigureRow(f.label, f"{f.clicks:,}", share=_percent(f.clicks / total if total else 0))
        for f in figures
    ]
