"""Analytics from the daily rollups (SPEC §14): figures, filters, scope, CSV."""

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from orgportal.models import Click, Role
from orgportal.services import analytics, clicks, conversions, projects
from orgportal.services.errors import NotFound, ValidationFailed
from tests.factories import add_member, make_org, make_user
from tests.services.test_clicks import GOOGLEBOT, IPHONE, hit, make_link


def setup_org(session):
    owner = make_user(session)
    org = make_org(session, owner)
    project = projects.create_project(session, user=owner, organization_id=org.id, name="Spring")
    session.commit()
    a = make_link(session, owner, org.id, project_id=project.id)
    b = make_link(session, owner, org.id)
    batch = [hit(a), hit(a, IPHONE, referrer=""), hit(a, GOOGLEBOT), hit(b, country="FR")]
    clicks.record(session, batch)
    session.commit()
    return owner, org, project, a, b, batch


def report(session, user, org_id, **filters):
    start, end = analytics.date_range(7)
    return analytics.workspace_report(
        session, user=user, organization_id=org_id, start=start, end=end, **filters
    )


def test_workspace_figures_by_day_link_project_and_dimension(session):
    owner, org, project, a, b, _ = setup_org(session)
    shown = report(session, owner, org.id)
    assert (shown.clicks, shown.bots) == (3, 1)
    assert len(shown.days) == 7 and shown.days[-1].clicks == 3
    assert [(f.key, f.clicks) for f in shown.links] == [(a.id, 2), (b.id, 1)]
    assert [(f.label, f.clicks) for f in shown.projects] == [("Spring", 2), ("No project", 1)]
    assert {f.label: f.clicks for f in shown.dimensions["device"]} == {"desktop": 2, "mobile": 1}
    assert {f.label: f.clicks for f in shown.dimensions["referrer"]} == {
        "news.example.org": 2,
        "Direct / none": 1,
    }
    assert {f.label: f.clicks for f in shown.dimensions["country"]} == {"GB": 2, "FR": 1}


def test_filters_by_project_and_by_link(session):
    owner, org, project, a, b, _ = setup_org(session)
    assert report(session, owner, org.id, project_id=project.id).clicks == 2
    assert report(session, owner, org.id, link_id=b.id).clicks == 1


def test_viewers_see_analytics_but_other_workspaces_ids_read_as_missing(session):
    owner, org, project, a, b, _ = setup_org(session)
    viewer = add_member(session, org, Role.VIEWER)
    assert report(session, viewer, org.id).clicks == 3
    stranger = make_user(session)
    other = make_org(session, stranger, "Other")
    with pytest.raises(NotFound):
        report(session, stranger, org.id)
    with pytest.raises(NotFound):
        report(session, stranger, other.id, link_id=a.id)
    with pytest.raises(NotFound):
        report(session, stranger, other.id, project_id=project.id)
    start, end = analytics.date_range(7)
    with pytest.raises(NotFound):
        analytics.link_report(session, user=stranger, link_id=a.id, start=start, end=end)


def test_conversions_and_rate_per_link_and_project(session):
    owner, org, project, a, b, batch = setup_org(session)
    conversions.record_conversion(session, user=owner, click_id=batch[0].token, name="buy", value=5)
    session.commit()
    shown = report(session, owner, org.id)
    top = {f.key: f for f in shown.links}
    assert (top[a.id].conversions, top[a.id].rate, top[a.id].value) == (1, 0.5, 5.0)
    spring = next(f for f in shown.projects if f.label == "Spring")
    assert (spring.conversions, spring.rate) == (1, 0.5)
    assert shown.conversions == 1 and shown.rate == pytest.approx(1 / 3)


def test_range_is_validated():
    today = analytics.date_range(7)[1]
    with pytest.raises(ValidationFailed):
        analytics.date_range(start=today, end=today - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        analytics.date_range(start=today - timedelta(days=400), end=today)


def test_old_clicks_fall_outside_the_range(session):
    owner, org, *_ = setup_org(session)
    today = analytics.date_range(7)[1]
    shown = analytics.workspace_report(
        session,
        user=owner,
        organization_id=org.id,
        start=today - timedelta(days=20),
        end=today - timedelta(days=10),
    )
    assert shown.clicks == 0 and len(shown.days) == 11


def test_the_report_reads_rollups_not_clicks(session):
    """Deleting the raw clicks changes nothing the page shows: it reads only rollups."""
    owner, org, *_ = setup_org(session)
    before = report(session, owner, org.id)
    for click in session.exec(select(Click)).all():
        session.delete(click)
    session.commit()
    assert report(session, owner, org.id).clicks == before.clicks


def test_csv_export_of_the_range(session):
    owner, org, project, a, b, _ = setup_org(session)
    start, end = analytics.date_range(7)
    text = analytics.export_csv(session, user=owner, organization_id=org.id, start=start, end=end)
    rows = list(csv.DictReader(io.StringIO(text)))
    by_link = {r["link"]: r for r in rows}
    assert by_link[f"/l/{a.slug}"]["clicks"] == "2"
    assert by_link[f"/l/{a.slug}"]["bot_visits"] == "1"
    assert by_link[f"/l/{a.slug}"]["project"] == "Spring"
    assert by_link[f"/l/{b.slug}"]["project"] == ""


def test_personal_workspace_analytics(session):
    owner = make_user(session)
    link = make_link(session, owner)
    clicks.record(session, [hit(link)])
    session.commit()
    assert report(session, owner, None).clicks == 1
    assert report(session, make_user(session), None).clicks == 0


def test_project_click_counts_for_the_projects_list(session):
    owner, org, project, *_ = setup_org(session)
    assert analytics.project_click_counts(session, [project.id]) == [(project.id, 2)]


def test_live_refreshes_at_most_once_a_second_per_workspace(monkeypatch):
    """A burst of click notifications becomes one refresh now and one trailing refresh a
    second later, per organization; another organization is not held back."""
    import asyncio

    from orgportal.state import analytics, live

    assert live.follow_of(analytics.AnalyticsState).every == analytics.MIN_PUSH_INTERVAL

    refreshed: list[tuple[tuple[str, int], float]] = []

    async def refresh(_app, _follow, topic, key):
        live._last_push[(topic, key)] = live.time.monotonic()
        refreshed.append(((topic, key), live.time.monotonic()))

    monkeypatch.setattr(live, "_refresh_now", refresh)
    monkeypatch.setattr(live, "_last_push", {})
    monkeypatch.setattr(live, "_scheduled", {})

    async def burst():
        start = live.time.monotonic()
        for _ in range(50):
            await live.push(None, "analytics", 7)
            await asyncio.sleep(0.01)
        await live.push(None, "analytics", 8)
        await asyncio.sleep(1.2)
        return start

    start = asyncio.run(burst())
    org7 = [t - start for key, t in refreshed if key == ("analytics", 7)]
    assert len(org7) == 2
    assert org7[1] - org7[0] >= 0.99
    assert [key for key, _ in refreshed].count(("analytics", 8)) == 1


def test_weekly_rollups_give_the_same_figures_as_counting_clicks(session):
    """Dimensions are read from weekly rows for whole weeks and daily rows at the edges:
    for any range, the figures equal a plain count of the stored clicks."""
    import dataclasses
    from collections import Counter

    owner = make_user(session)
    org = make_org(session, owner)
    link = make_link(session, owner, org.id)
    today = analytics.date_range(1)[1]
    referrers = ["https://a.example/", "https://b.example/", ""]
    batch = [
        dataclasses.replace(
            hit(link, referrer=referrers[n % 3]), at=hit(link).at - timedelta(days=n % 40)
        )
        for n in range(200)
    ]
    clicks.record(session, batch)
    session.commit()
    stored = session.exec(select(Click)).all()
    for back, length in ((0, 7), (3, 30), (0, 90), (11, 9), (5, 1), (20, 15)):
        end = today - timedelta(days=back)
        start = end - timedelta(days=length - 1)
        expected = Counter(c.referrer_host for c in stored if start <= c.clicked_at.date() <= end)
        shown = analytics.workspace_report(
            session, user=owner, organization_id=org.id, start=start, end=end
        )
        got = {f.key: f.clicks for f in shown.dimensions["referrer"]}
        assert got == dict(expected), (start, end)
        assert shown.clicks == sum(expected.values())


def test_a_range_at_the_edge_of_the_calendar_is_refused_not_crashed():
    from datetime import date

    with pytest.raises(ValidationFailed):
        analytics.date_range(end=date(1, 1, 2))


def test_the_page_load_reads_its_filters_from_the_url(session, engine, monkeypatch):
    """/analytics?days=7&link=<slug>: the page's one load event fills the figures for that
    link; a link of another workspace shows a message, not its figures."""
    import asyncio
    from urllib.parse import urlencode

    from reflex import constants
    from reflex.state import State

    from orgportal import db, routes
    from orgportal.orgportal import app  # noqa: F401  (declares the pages)
    from orgportal.state.analytics import AnalyticsState
    from orgportal.state.base import AppState
    from tests.factories import open_session

    monkeypatch.setattr(db, "engine", lambda: engine)
    owner, org, project, a, b, _ = setup_org(session)
    other = make_link(session, make_user(session))
    raw, _ = open_session(session, owner, org.id)
    session.commit()

    def load(query: dict) -> AnalyticsState:
        root = State(_reflex_internal_init=True)
        root._update_router_vars(
            {
                constants.RouteVar.HEADERS: {"cookie": f"{routes.SESSION_COOKIE}={raw}"},
                constants.RouteVar.PATH: routes.ANALYTICS,
                constants.RouteVar.ORIGIN: f"{routes.ANALYTICS}?{urlencode(query)}",
                constants.RouteVar.QUERY: query,
            },
            {},
        )
        state = root.get_substate(AppState.get_full_name().split(".")[1:])
        asyncio.run(AppState.load_page.fn(state, routes.ANALYTICS))
        return root.get_substate(AnalyticsState.get_full_name().split(".")[1:])

    everything = load({})
    assert (everything.clicks, everything.range_label) == (3, "Last 30 days")
    assert everything.project_names == ["Spring"]
    one = load({"days": "7", "link": a.slug})
    assert (one.clicks, one.range_label, one.link_filter) == (2, "Last 7 days", a.slug)
    assert [row.label for row in one.top_links] == [f"/l/{a.slug}"]
    assert len(one.series) == 7
    spring = load({"project": str(project.id)})
    assert (spring.clicks, spring.project_filter) == (2, "Spring")
    foreign = load({"link": other.slug})
    assert "No link" in foreign.error and foreign.series == []
