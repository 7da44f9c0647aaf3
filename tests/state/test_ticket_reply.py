"""The requester's reply page (/support/ticket/<token>) is a thin adapter: each event asks
the service with the token of the address it names and the caller's address, and shows only
what comes back (SPEC §17). An event naming another page, or no working link, gets nothing."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import Session, func, select

from orgportal import db
from orgportal.adapters.rate_limit import MemoryLimiter
from orgportal.models import OutboxMessage, Role, Ticket, TicketMessage, User
from orgportal.services import ticket_replies, tickets
from orgportal.state import live
from orgportal.state.ticket_reply import PAGE, TicketReplyState
from orgportal.state.tickets import TOPIC
from tests.factories import add_member, make_org, make_user
from tests.services.test_tickets import submit

PEER = "203.0.113.9"


def connected(path: str, peer: str = PEER, tab: str = "") -> TicketReplyState:
    """The state as a websocket from `peer` on the page at `path` would see it (`tab`: the
    client token of the tab)."""
    root = State(_reflex_internal_init=True)
    root._update_router_vars(
        {
            constants.RouteVar.CLIENT_TOKEN: tab,
            constants.RouteVar.CLIENT_IP: peer,
            constants.RouteVar.HEADERS: {"asgi-scope-client": peer},
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: path,
        },
        {},
    )
    return root.get_substate(TicketReplyState.get_full_name().split(".")[1:])


@pytest.fixture
def limit(engine, monkeypatch) -> MemoryLimiter:
    monkeypatch.setattr(db, "engine", lambda: engine)
    fresh = MemoryLimiter("ticket_reply_ip", 10, 600)
    monkeypatch.setattr(ticket_replies, "per_address", fresh)
    return fresh


@pytest.fixture
def link_path(session: Session, limit) -> str:
    """The reply page of TKT-001, from the mail of an Agent's answer."""
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner, "Acme Support")
    agent = add_member(session, org, Role.AGENT, make_user(session, "agent@example.com"))
    ticket = submit(session, org, "Broken link")
    tickets.reply(session, user=agent, organization_id=org.id, ticket_id=ticket.id, body="Hi!")
    session.commit()
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ticket_reply")).one()
    return urlsplit(mail.link).path


def message_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(TicketMessage)).one()


def test_the_page_shows_the_conversation_and_sends_a_reply(session, link_path):
    state = connected(link_path)
    state.load()
    assert (state.checked, state.link_error) == (True, "")
    assert (state.organization_name, state.number, state.subject) == (
        "Acme Support",
        "TKT-001",
        "Broken link",
    )
    assert [(m.author, m.mine, m.body) for m in state.messages] == [
        ("You", True, "It does not work."),
        ("Test User", False, "Hi!"),
    ]

    state.send({"reply": "Still broken."})
    assert (state.sent, state.errors, state.reply_key) == (True, {}, 1)
    assert [m.body for m in state.messages][-1] == "Still broken."

    state.send({"reply": "   "})
    assert state.sent is False and state.errors == {"reply": "Reply is required."}
    assert state.reply_key == 1  # the typed text stays in the box
    assert message_count(session) == 3


def test_an_event_from_a_page_without_a_working_link_gets_nothing(session, link_path):
    """A tab that showed TKT-001 sends an event naming another address (crafted): the token
    of that address is what the service checks, and nothing is written or shown."""
    shown = connected(link_path)
    shown.load()
    crafted = connected("/support/ticket/someone-elses-token")
    crafted.messages, crafted.number = shown.messages, shown.number
    crafted.send({"reply": "Let me in."})
    assert crafted.link_error == "This reply link is not valid or has expired."
    assert crafted.messages == [] and crafted.sent is False
    assert message_count(session) == 2
    crafted.load()
    assert crafted.link_error and crafted.messages == []


def test_replies_are_limited_per_address(session, link_path, limit):
    limit.limit = 1
    state = connected(link_path)
    state.send({"reply": "One."})
    assert state.sent
    state.send({"reply": "Two."})
    assert state.sent is False
    assert "try again in 10 minutes" in state.errors["reply"]
    assert message_count(session) == 3
    other = connected(link_path, peer="198.51.100.1")
    other.send({"reply": "Two, from elsewhere."})
    assert other.sent and message_count(session) == 4


def test_the_page_follows_its_ticket_live(session, link_path):
    """The loaded page follows its own ticket: a live refresh (an agent answered) shows the
    new message; another ticket of the organization changing is not its concern; a link
    that stops working leaves the tab following nothing."""
    state = connected(link_path, tab="tab-1")
    state.load()
    ticket = session.exec(select(Ticket)).one()
    assert live.watchers(tickets.TICKET_TOPIC, ticket.id) == {"tab-1": TicketReplyState}
    assert live.watchers(TOPIC, ticket.organization_id) == {}
    assert state._still_shows(tickets.TICKET_TOPIC, ticket.id)
    assert not state._still_shows(tickets.TICKET_TOPIC, ticket.id + 1)
    assert TicketReplyState.live_signed_out  # the refresh keeps a signed-out tab

    agent = session.exec(select(User).where(User.email == "agent@example.com")).one()
    tickets.reply(
        session,
        user=agent,
        organization_id=ticket.organization_id,
        ticket_id=ticket.id,
        body="Fixed now.",
    )
    assert (tickets.TICKET_TOPIC, ticket.id) in session.info[db.LIVE_CHANGES]  # for this page
    session.commit()
    state._refresh()  # what the live refresh runs for this tab
    assert [m.body for m in state.messages][-1] == "Fixed now."

    gone = connected("/support/ticket/not-a-working-token", tab="tab-2")
    gone.load()
    assert "tab-2" not in live.watchers(tickets.TICKET_TOPIC, ticket.id)
    live.unwatch(PAGE, "tab-1")


def test_a_long_conversation_shows_its_latest_messages_and_the_earlier_on_request(
    session, link_path
):
    """The page holds the latest CONVERSATION_PAGE messages, says how many came before and
    reads the next ones on request; a send or a live refresh keeps what was asked for."""
    ticket = session.exec(select(Ticket)).one()
    first = session.exec(select(TicketMessage).order_by(TicketMessage.id)).first()
    for n in range(1, 111):  # 110 older messages, 112 in all
        at = first.created_at - timedelta(seconds=1000 - n)
        session.add(TicketMessage(ticket_id=ticket.id, author_name="A", body=f"#{n}", created_at=at))
    session.commit()
    page = tickets.CONVERSATION_PAGE
    state = connected(link_path)
    state.load()
    assert len(state.messages) == page and state.messages[-1].body == "Hi!"
    assert state.earlier_messages == 112 - page

    state.show_earlier_messages()
    assert len(state.messages) == 2 * page and state.earlier_messages == 112 - 2 * page
    state.send({"reply": "Any news?"})
    assert state.messages[-1].body == "Any news?" and len(state.messages) == 2 * page
    state.show_earlier_messages()
    assert len(state.messages) == 113 and state.messages[0].body == "#1"
    assert state.earlier_messages == 0
    state.show_earlier_messages()  # nothing earlier: a crafted call reads no more than there is
    assert state._message_limit == 3 * page
    state.load()  # the page opened again: the latest only
    assert len(state.messages) == page
