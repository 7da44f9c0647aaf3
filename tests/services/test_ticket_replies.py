"""The requester's reply channel (SPEC §7, §17 "customer reply → assignee"): each staff reply's
mail carries a reply link (only its hash stored) whose page shows that one conversation and
takes the requester's answer, which reopens the ticket, reaches the webhooks and mails the
assignee (unless they turned it off); bad links, bad bodies and floods change nothing."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from orgportal import security
from orgportal.adapters.rate_limit import MemoryLimiter
from orgportal.config import settings
from orgportal.models import (
    OutboxMessage,
    Role,
    Ticket,
    TicketMessage,
    TicketReplyLink,
    WebhookMessage,
)
from orgportal.models.base import utcnow
from orgportal.services import notifications, ticket_replies, tickets, webhooks
from orgportal.services.errors import NotFound, TooManyRequests, ValidationFailed
from tests.factories import add_member, make_org, make_user
from tests.services.test_tickets import submit

CLIENT = "203.0.113.7"
INVALID = "This reply link is not valid or has expired."


@pytest.fixture(autouse=True)
def fresh_limit(monkeypatch) -> MemoryLimiter:
    """Each test starts with no replies counted (the module's limiter is process-wide)."""
    fresh = MemoryLimiter("ticket_reply_ip", 10, 600)
    monkeypatch.setattr(ticket_replies, "per_address", fresh)
    monkeypatch.setattr(
        ticket_replies, "per_ticket", MemoryLimiter("ticket_reply_ticket", 30, 3600)
    )
    return fresh


@pytest.fixture
def desk(session: Session):
    """An organization with two Agents; Rita's ticket TKT-001, answered by `agent2`."""
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner, "Acme Support")
    agent = add_member(session, org, Role.AGENT, make_user(session, "agent@example.com"))
    agent2 = add_member(session, org, Role.AGENT, make_user(session, "agent2@example.com"))
    ticket = submit(session, org, "Broken link")
    return org, {"owner": owner, "agent": agent, "agent2": agent2}, ticket


def staff_reply(session: Session, desk, body: str = "Try clearing the cache.") -> str:
    """`agent2` answers; returns the reply link's token from the mail to the requester."""
    org, people, ticket = desk
    tickets.reply(
        session, user=people["agent2"], organization_id=org.id, ticket_id=ticket.id, body=body
    )
    session.commit()
    mail = requester_mails(session)[-1]
    return urlsplit(mail.link).path.rsplit("/", 1)[-1]


def requester_mails(session: Session) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "ticket_reply")
            .order_by(OutboxMessage.id)
        ).all()
    )


def notified(session: Session) -> dict[str, OutboxMessage]:
    kind = f"notify_{notifications.CUSTOMER_REPLY}"
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()
    return {row.to_address: row for row in rows}


def messages(session: Session, ticket: Ticket) -> list[tuple[bool, str, str]]:
    rows = session.exec(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id)
    ).all()
    return [(m.from_requester, m.author_name, m.body) for m in rows]


def answer(session: Session, token: str, body: str = "Still broken, sorry.") -> TicketMessage:
    message = ticket_replies.customer_reply(session, token, body, client=CLIENT)
    session.commit()
    return message


# --- the link in the staff reply's mail ------------------------------------------------------


def test_the_staff_reply_mail_ends_with_a_working_reply_link(session, desk):
    _, _, ticket = desk
    token = staff_reply(session, desk)
    [mail] = requester_mails(session)
    assert mail.to_address == "rita@example.com"
    assert mail.subject == "[TKT-001] Broken link"
    assert mail.body_text == (
        "Test User of Acme Support replied:\n\nTry clearing the cache.\n\n"
        f"Reply to this message: {mail.link}\n"
    )
    assert mail.link == f"{settings.public_url}/support/ticket/{token}"
    assert len(token) >= 43  # 32 random bytes
    assert ticket_replies.conversation(session, token).number == ticket.number


def test_only_the_tokens_hash_is_stored_and_it_expires_in_90_days(session, desk):
    _, _, ticket = desk
    token = staff_reply(session, desk)
    [row] = session.exec(select(TicketReplyLink)).all()
    assert row.ticket_id == ticket.id
    assert row.token_hash == security.token_hash(token) != token
    assert token not in json.dumps([str(v) for v in row.model_dump().values()])
    left = row.expires_at - utcnow()
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)


def test_each_staff_reply_mails_a_link_of_its_own(session, desk):
    first, second = staff_reply(session, desk), staff_reply(session, desk, "And again.")
    assert first != second
    assert len(session.exec(select(TicketReplyLink)).all()) == 2
    assert ticket_replies.conversation(session, first).number == "TKT-001"


# --- the conversation page -------------------------------------------------------------------


def test_the_conversation_shows_that_ticket_only_oldest_first(session, desk):
    org, people, ticket = desk
    submit(session, org, "Another ticket of the same requester")
    token = staff_reply(session, desk)
    seen = ticket_replies.conversation(session, token)
    assert (seen.organization_name, seen.number, seen.subject, seen.status) == (
        "Acme Support",
        "TKT-001",
        "Broken link",
        "open",
    )
    assert [(m.author, m.from_requester, m.body) for m in seen.messages] == [
        ("Rita Requester", True, "It does not work."),
        (people["agent2"].display_name, False, "Try clearing the cache."),
    ]
    assert seen.messages[0].sent_at <= seen.messages[1].sent_at
    # what the page shows carries no internal id (nor anything of the other ticket); the
    # ticket's id is what the page follows for live updates, kept on the server
    fields = {name for message in seen.messages for name in vars(message)} | set(vars(seen))
    assert not any(name.endswith("id") for name in fields - {"ticket_id"})
    assert seen.ticket_id == ticket.id and seen.earlier == 0
    assert "Another ticket" not in repr(seen)


# --- the requester's answer ------------------------------------------------------------------


def test_the_answer_joins_the_conversation_and_reaches_the_agent_who_answered(session, desk):
    org, people, ticket = desk
    token = staff_reply(session, desk)
    answer(session, token, "  Still broken, sorry.  ")
    assert messages(session, ticket)[-1] == (True, "Rita Requester", "Still broken, sorry.")
    mails = notified(session)
    assert set(mails) == {"agent2@example.com"}  # not the other agent nor the owner
    mail = mails["agent2@example.com"]
    assert mail.subject == "[TKT-001] Rita Requester replied: Broken link"
    assert "Still broken, sorry." in mail.body_text
    assert mail.link == f"{settings.public_url}/tickets/TKT-001"
    assert ticket_replies.conversation(session, token).messages[-1].from_requester


def test_the_answer_reopens_a_closed_ticket_and_refreshes_open_pages(session, desk):
    org, people, ticket = desk
    token = staff_reply(session, desk)
    tickets.close_ticket(session, user=people["agent"], organization_id=org.id, ticket_id=ticket.id)
    session.commit()
    assert session.get(Ticket, ticket.id).status == "closed"

    ticket_replies.customer_reply(session, token, "It is back.", client=CLIENT)
    assert (tickets.TOPIC, org.id) in session.info["live_changes"]
    session.commit()
    reopened = session.get(Ticket, ticket.id)
    assert reopened.status == "open" and reopened.closed_at is None


def test_an_assignee_who_turned_customer_replies_off_is_not_mailed(session, desk):
    _, people, ticket = desk
    token = staff_reply(session, desk)
    keep = set(notifications.KIND_KEYS) - {notifications.CUSTOMER_REPLY}
    notifications.update_preferences(session, user=people["agent2"], enabled=keep)
    session.commit()
    answer(session, token)
    assert notified(session) == {}
    assert messages(session, ticket)[-1][0] is True  # the answer itself is kept


def test_the_answer_reaches_the_webhooks_as_a_staff_reply_does(session, desk, monkeypatch):
    org, people, _ = desk
    monkeypatch.setattr(settings, "webhooks_allow_private_targets", True)
    webhooks.create_endpoint(
        session,
        user=people["owner"],
        organization_id=org.id,
        url="http://127.0.0.1:9/hook",
        event_types=["ticket.replied"],
    )
    session.commit()
    token = staff_reply(session, desk)
    answer(session, token, "Thanks!")
    rows = session.exec(select(WebhookMessage).order_by(WebhookMessage.id)).all()
    payloads = [json.loads(row.payload)["data"] for row in rows]
    assert [row.event_type for row in rows] == ["ticket.replied", "ticket.replied"]
    staff, requester = payloads
    assert set(staff) == set(requester)  # the same keys
    assert requester["number"] == "TKT-001"
    assert (requester["author"], requester["body"]) == ("rita@example.com", "Thanks!")
    assert staff["author"] == "agent2@example.com"


# --- refusals: nothing written ---------------------------------------------------------------


def nothing_written(session: Session, ticket: Ticket, before: list) -> None:
    session.rollback()
    assert messages(session, ticket) == before
    assert notified(session) == {}


def link_refused(session: Session, ticket: Ticket, token: str) -> None:
    """The link shows nothing and takes no answer; nothing is written."""
    before = messages(session, ticket)
    with pytest.raises(NotFound, match=INVALID):
        ticket_replies.conversation(session, token)
    with pytest.raises(NotFound, match=INVALID):
        ticket_replies.customer_reply(session, token, "Hello?", client=CLIENT)
    nothing_written(session, ticket, before)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_an_unknown_token_shows_and_accepts_nothing(session, desk, token):
    _, _, ticket = desk
    staff_reply(session, desk)
    link_refused(session, ticket, token)


def test_an_expired_link_shows_and_accepts_nothing(session, desk):
    _, _, ticket = desk
    token = staff_reply(session, desk)
    row = session.exec(select(TicketReplyLink)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    link_refused(session, ticket, token)


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "Reply is required."), ("   \n ", "Reply is required."), ("x" * 5001, "5000")],
)
def test_an_empty_or_too_long_answer_is_refused(session, desk, body, error):
    _, _, ticket = desk
    token = staff_reply(session, desk)
    before = messages(session, ticket)
    with pytest.raises(ValidationFailed) as refused:
        ticket_replies.customer_reply(session, token, body, client=CLIENT)
    assert set(refused.value.errors) == {"reply"} and error in refused.value.errors["reply"]
    nothing_written(session, ticket, before)
    assert ticket_replies.customer_reply(session, token, "x" * 5000, client=CLIENT).body


def test_the_link_of_a_deleted_ticket_is_refused(session, desk):
    _, _, ticket = desk
    token = staff_reply(session, desk)
    session.delete(session.get(Ticket, ticket.id))
    session.commit()
    with pytest.raises(NotFound, match=INVALID):
        ticket_replies.conversation(session, token)
    with pytest.raises(NotFound, match=INVALID):
        ticket_replies.customer_reply(session, token, "Hello?", client=CLIENT)
    session.rollback()
    assert session.exec(select(TicketMessage)).all() == []
    assert notified(session) == {}


def test_a_link_opens_its_own_ticket_never_another(session, desk):
    org, _, ticket = desk
    other = submit(session, org, "Other ticket")
    token = staff_reply(session, desk)
    answer(session, token, "For the first one.")
    assert messages(session, other) == [(True, "Rita Requester", "It does not work.")]
    assert messages(session, ticket)[-1][2] == "For the first one."


def test_too_many_answers_from_one_address_are_refused_and_change_nothing(
    session, desk, fresh_limit
):
    _, _, ticket = desk
    fresh_limit.limit = 2
    token = staff_reply(session, desk)
    answer(session, token, "One.")
    answer(session, token, "Two.")
    before = messages(session, ticket)
    notified_before = notified(session)
    with pytest.raises(TooManyRequests, match="try again in 10 minutes"):
        ticket_replies.customer_reply(session, token, "Three.", client=CLIENT)
    session.rollback()
    assert messages(session, ticket) == before
    assert notified(session) == notified_before
    # another address is not held back by this one
    ticket_replies.customer_reply(session, token, "Three.", client="198.51.100.1")
    session.commit()
    assert messages(session, ticket)[-1][2] == "Three."


def test_one_ticket_takes_only_so_many_answers_whatever_the_addresses(session, desk):
    """A leaked link used from many addresses: the ticket's own limit holds, nothing more is
    written or mailed, and another ticket is not held back."""
    org, _, ticket = desk
    ticket_replies.per_ticket.limit = 2
    token = staff_reply(session, desk)
    for n, address in enumerate(("198.51.100.1", "198.51.100.2")):
        ticket_replies.customer_reply(session, token, f"Answer {n}.", client=address)
        session.commit()
    before, notified_before = messages(session, ticket), notified(session)
    with pytest.raises(TooManyRequests, match="many replies in a short time.*60 minutes"):
        ticket_replies.customer_reply(session, token, "Answer 2.", client="198.51.100.3")
    session.rollback()
    assert messages(session, ticket) == before
    assert notified(session) == notified_before
    other = submit(session, org, "Other ticket")
    other_token = ticket_replies.new_reply_link(session, other).rsplit("/", 1)[-1]
    session.commit()
    ticket_replies.customer_reply(session, other_token, "Fine here.", client="198.51.100.3")
    session.commit()
    assert messages(session, other)[-1][2] == "Fine here."
