"""An action that leads to another page fills that page on the way, so it shows its
content as soon as the route has changed: Accept fills the organization's overview
(`AppState.fill_ahead`, whose page load then reads nothing again), Create Ticket fills the
new ticket's page in its own transaction."""

import asyncio

import pytest

from orgportal import routes
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.state import base
from orgportal.state.base import AppState
from orgportal.state.organization import OrgState
from orgportal.state.tickets import TicketsState, TicketState
from tests.factories import make_org, make_user, open_session
from tests.state.test_page_loads import connected, counted  # noqa: F401  (a fixture)


@pytest.fixture
def owner_cookie(session):
    owner = make_user(session)
    org = make_org(session, owner, "Ahead Co")
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    return raw


def test_a_page_filled_ahead_is_not_read_again_by_its_load(session, counted, owner_cookie):  # noqa: F811
    state = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", "/support/invite/x")
    assert asyncio.run(AppState.fill_ahead.fn(state, routes.ORGANIZATION)) is None
    overview = asyncio.run(state.get_state(OrgState))
    assert overview.name == "Ahead Co" and state.page_ready
    assert counted == [owner_cookie]

    here = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", routes.ORGANIZATION)
    here._filled_path, here._filled_at = state._filled_path, state._filled_at
    assert asyncio.run(AppState.load_page.fn(here, routes.ORGANIZATION)) is None
    assert counted == [owner_cookie]  # the load read nothing again
    assert here.page_ready and here._filled_path == ""
    asyncio.run(AppState.load_page.fn(here, routes.ORGANIZATION))  # used once
    assert counted == [owner_cookie, owner_cookie]


def test_another_page_or_a_late_load_reads_as_usual(
    session,
    counted,  # noqa: F811
    owner_cookie,
    monkeypatch,
):
    links = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", routes.LINKS)
    links._filled_ahead(routes.ORGANIZATION)
    asyncio.run(AppState.load_page.fn(links, routes.LINKS))
    assert counted == [owner_cookie]

    late = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", routes.ORGANIZATION)
    late._filled_ahead(routes.ORGANIZATION)
    monkeypatch.setattr(base.time, "time", lambda: late._filled_at + base.FILLED_AHEAD_FOR + 1)
    asyncio.run(AppState.load_page.fn(late, routes.ORGANIZATION))
    assert counted == [owner_cookie, owner_cookie]


def test_create_ticket_fills_the_new_tickets_page(session, counted, owner_cookie):  # noqa: F811
    state = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", routes.TICKETS)
    desk = asyncio.run(state.get_state(TicketsState))
    form = {
        "name": "Carl Customer",
        "email": "carl@example.com",
        "subject": "Printer on fire",
        "message": "Please come quickly.",
    }
    events = asyncio.run(TicketsState.create_ticket.fn(desk, form))
    assert "/tickets/TKT-001" in str(events) and "_redirect" in str(events)
    page = asyncio.run(state.get_state(TicketState))
    assert page.found and page.ticket_number == "TKT-001"
    assert page.subject == "Printer on fire" and page.messages[0].body == "Please come quickly."
    assert counted == [owner_cookie]  # one authentication for the ticket and its page


def test_a_page_filled_ahead_reads_its_own_address_not_the_one_clicked_from(
    session,
    counted,  # noqa: F811
    owner_cookie,
):
    """A navigation link fills its page as it is clicked, while the browser still shows the
    page the click came from: the filled page reads its own address (no query), so the
    closed tickets' filter of the page left behind does not leak into the plain list."""
    state = connected(f"{routes.SESSION_COOKIE}={owner_cookie}", "/tickets?status=closed&page=2")
    desk = asyncio.run(state.get_state(TicketsState))
    asyncio.run(AppState.load_page.fn(state, routes.TICKETS))
    assert desk.status_filter == "Closed"  # the address's own filter, read as usual
    assert asyncio.run(AppState.fill_ahead.fn(state, routes.TICKETS)) is None
    assert desk.status_filter == "Open" and desk.page == 0
    assert state._page_path() == "/tickets" and state._page_query() == {
        "status": "closed",
        "page": "2",
    }  # outside a fill, the browser's address again
