"""The agent's ticket page (/tickets/TKT-001) follows its own ticket, as the requester's reply
page does: a change to that ticket refreshes it, a change to another ticket of the
organization does not, and a tab that opens another ticket follows that one instead."""

import asyncio

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import Session

from orgportal import db, routes
from orgportal.models import Role
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.services import tickets
from orgportal.state import live
from orgportal.state import tickets as ticket_pages
from orgportal.state.base import AppState
from orgportal.state.ticket_reply import TicketReplyState
from orgportal.state.tickets import TicketState
from tests.factories import add_member, make_org, make_user, open_session
from tests.services.test_tickets import submit


@pytest.fixture
def desk(session: Session, engine, monkeypatch):
    """An organization with two tickets and a signed-in Agent's session cookie."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    owner = make_user(session)
    org = make_org(session, owner, "Desk Co")
    agent = add_member(session, org, Role.AGENT)
    first, second = submit(session, org, "First"), submit(session, org, "Second")
    raw, _ = open_session(session, agent, org.id)
    session.commit()
    return {"cookie": f"{routes.SESSION_COOKIE}={raw}", "agent": agent, "org": org,
            "first": first, "second": second}  # fmt: skip


@pytest.fixture
def registry_clean():
    live.forget_all()
    yield
    live.forget_all()


def ticket_page(cookie: str, number: str, tab: str) -> TicketState:
    """The ticket page's state as the tab's websocket on /tickets/<number> sees it."""
    root = State(_reflex_internal_init=True)
    path = routes.ticket(number)
    root._update_router_vars(
        {
            constants.RouteVar.CLIENT_TOKEN: tab,
            constants.RouteVar.HEADERS: {"cookie": cookie, "asgi-scope-client": "127.0.0.1"},
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: path,
            constants.RouteVar.QUERY: {"number": number},
        },
        {},
    )
    state = root.get_substate(AppState.get_full_name().split(".")[1:])
    asyncio.run(AppState.load_page.fn(state, routes.TICKET))
    return asyncio.run(state.get_state(TicketState))


def test_the_agents_ticket_page_follows_only_its_ticket(session: Session, desk):
    first, second = desk["first"], desk["second"]
    page = ticket_page(desk["cookie"], first.number, "agent-tab")
    assert page.found and page.ticket_number == first.number
    assert live.watchers(tickets.TICKET_TOPIC, first.id) == {"agent-tab": TicketState}
    assert live.watchers(ticket_pages.TOPIC, desk["org"].id) == {}  # not every ticket's
    assert page._still_shows(tickets.TICKET_TOPIC, first.id)
    assert not page._still_shows(tickets.TICKET_TOPIC, second.id)

    tickets.reply(session, user=desk["agent"], organization_id=desk["org"].id,
                  ticket_id=second.id, body="About the second.")  # fmt: skip
    assert (tickets.TICKET_TOPIC, first.id) not in session.info[db.LIVE_CHANGES]
    tickets.close_ticket(session, user=desk["agent"], organization_id=desk["org"].id,
                         ticket_id=first.id)  # fmt: skip
    assert (tickets.TICKET_TOPIC, first.id) in session.info[db.LIVE_CHANGES]
    session.commit()
    page._refresh()  # what the live refresh runs for this tab
    assert page.status == "closed"

    other = ticket_page(desk["cookie"], second.number, "agent-tab")  # the tab moves on
    assert live.watchers(tickets.TICKET_TOPIC, first.id) == {}
    assert live.watchers(tickets.TICKET_TOPIC, second.id) == {"agent-tab": TicketState}
    assert other.messages[-1].body == "About the second."

    missing = ticket_page(desk["cookie"], "TKT-999", "agent-tab")
    assert not missing.found
    assert live.watchers(tickets.TICKET_TOPIC, second.id) == {}  # follows nothing now


def test_the_agents_page_and_the_reply_page_follow_one_ticket_side_by_side(registry_clean):
    live.register(ticket_pages.PAGE, "agent-tab", tickets.TICKET_TOPIC, 7, TicketState)
    live.register("ticket_reply", "customer-tab", tickets.TICKET_TOPIC, 7, TicketReplyState)
    assert live.watchers(tickets.TICKET_TOPIC, 7) == {
        "agent-tab": TicketState,
        "customer-tab": TicketReplyState,
    }


def test_opening_the_ticket_again_shows_its_latest_messages_again(session: Session, desk):
    """Show earlier messages widens this visit's window; a live refresh keeps it; opening
    the same ticket again in the same tab starts from the latest messages again."""
    first = desk["first"]
    for n in range(tickets.CONVERSATION_PAGE + 5):
        tickets.reply(session, user=desk["agent"], organization_id=desk["org"].id,
                      ticket_id=first.id, body=f"Note {n}")  # fmt: skip
    session.commit()
    total = tickets.CONVERSATION_PAGE + 6  # the requester's first message, too
    page = ticket_page(desk["cookie"], first.number, "tab")
    assert len(page.messages) == tickets.CONVERSATION_PAGE and page.earlier_messages == 6

    page.show_earlier_messages()
    assert len(page.messages) == total and page.earlier_messages == 0
    page._refresh()  # a live refresh
    assert len(page.messages) == total

    asyncio.run(AppState.load_page.fn(page.parent_state, routes.TICKET))  # opened again
    assert len(page.messages) == tickets.CONVERSATION_PAGE and page.earlier_messages == 6
