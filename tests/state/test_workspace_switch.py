"""Switching workspace changes no page: the session's active workspace moves on
the server, the cookie stays the same. On a page of the same kind the page is filled for the
new workspace in the switch's own event (one authentication, one transaction); elsewhere a
client-side route change goes there. A workspace that refuses the member still becomes the
active one, and its gate is shown."""

import asyncio

from sqlmodel import Session

from orgportal import routes
from orgportal.models import UserSession
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.services import accounts, links
from orgportal.state.base import AppState
from orgportal.state.content import LinksState
from tests.factories import make_org, make_user, open_session
from tests.services.test_org_security import OFFICE, enable_two_factor, on_plan, save
from tests.state.test_page_loads import connected, counted  # noqa: F401  (a fixture)


def two_workspaces(session: Session):
    owner = make_user(session)
    one, two = make_org(session, owner, "Switch One"), make_org(session, owner, "Switch Two")
    for org in (one, two):
        links.create_link(
            session, user=owner, organization_id=org.id, target_url=f"https://{org.slug}.test/"
        )
    raw, row = open_session(session, owner, one.id)
    session.commit()
    return owner, one, two, raw, row.id


def switch(state: AppState, organization_id: int):
    return asyncio.run(AppState.switch_workspace.fn(state, organization_id))


def active_org(session: Session, session_id: int) -> int | None:
    session.expire_all()
    return session.get(UserSession, session_id).active_org_id


def test_on_the_same_kind_of_page_the_switch_fills_it(session, counted):  # noqa: F811
    _, one, two, raw, session_id = two_workspaces(session)
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.LINKS)
    asyncio.run(AppState.load_page.fn(state, routes.LINKS))
    page = asyncio.run(state.get_state(LinksState))
    assert [row.target_url for row in page.rows] == [f"https://{one.slug}.test/"]
    counted.clear()

    events = switch(state, two.id)
    assert events is None  # no page change at all, let alone a page load
    assert counted == [raw]  # one authentication for the switch and the page
    assert active_org(session, session_id) == two.id
    assert state.active_org_id == two.id and state.page_ready
    assert [row.target_url for row in page.rows] == [f"https://{two.slug}.test/"]
    assert state.workspace_key == 1  # the page's forms mount anew


def test_elsewhere_the_page_changes_client_side(session, counted):  # noqa: F811
    _, one, two, raw, session_id = two_workspaces(session)
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_NEW)
    events = switch(state, two.id)
    assert active_org(session, session_id) == two.id
    assert "_redirect" in str(events) and routes.ORGANIZATION in str(events)
    assert "window.location" not in str(events)
    assert not state.page_ready  # the spinner until the overview's load has filled it


def test_a_workspace_that_refuses_the_member_becomes_active_and_shows_its_gate(
    session,
    counted,  # noqa: F811
):
    owner, one, two, raw, session_id = two_workspaces(session)
    on_plan(session, two)
    enable_two_factor(session, owner)
    save(session, owner, two, allowlist="198.51.100.0/24", address=OFFICE, confirm=True)
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.LINKS)
    events = switch(state, two.id)
    assert active_org(session, session_id) == two.id  # the switch stands
    assert routes.ADDRESS_BLOCKED in str(events)
    assert accounts.last_workspace(session, session.get(type(owner), owner.id)) == two.id
