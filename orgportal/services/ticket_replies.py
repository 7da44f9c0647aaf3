"""The requester's side of a ticket (SPEC §7, §17: customer reply → assignee).

Each staff reply's mail to the requester ends with a reply link (`reply_links`: made by
`tickets.reply`, re-exported here as `new_reply_link`). The link's page, signed out, shows
the conversation (`conversation`) and takes the requester's answer (`customer_reply`): the
answer joins the conversation as the requester's, reopens a closed ticket, tells the
webhooks (`ticket.replied`, as a staff reply does), mails the ticket's assignee
(`notifications.customer_replied`, which honours their Account → Notifications setting) and
refreshes open ticket pages.

Every call checks the token again (nothing is taken from the page), and shows nothing but
that one ticket: its organization's name, number, subject, status and messages, never an
id (the ticket's, which the page follows for live updates, stays on the server).
Answers are limited per client address (`per_address`), like the public ticket intake,
so a link cannot be used to flood the agents' inboxes; a refused answer writes nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from orgportal.adapters.rate_limit import limiter
from orgportal.models import Organization, TicketMessage
from orgportal.services import notifications, tickets
from orgportal.services.errors import TooManyRequests
from orgportal.services.reply_links import INVALID, LINK_TTL, linked_ticket, new_reply_link
from orgportal.wording import minutes

__all__ = [
    "INVALID",
    "LINK_TTL",
    "Conversation",
    "ConversationMessage",
    "conversation",
    "customer_reply",
    "new_reply_link",
    "per_address",
    "per_ticket",
]

# Module-level so tests (and operators) can tune them: `per_address.limit = 2`. A person
# answers a few times an hour; ten answers in ten minutes from one address is a script.
per_address = limiter("ticket_reply_ip", limit=10, window=600)
# A link that leaked, used from many addresses at once, still cannot flood the ticket (and
# its assignee's inbox): thirty answers an hour on one ticket is more than any conversation.
per_ticket = limiter("ticket_reply_ticket", limit=30, window=3600)


@dataclass(frozen=True)
class ConversationMessage:
    author: str
    from_requester: bool  # the page says "You"
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class Conversation:
    """What the reply page shows: one ticket, oldest message first."""

    ticket_id: int  # what the page follows for live updates (never shown)
    organization_name: str
    number: str
    subject: str
    status: str
    messages: list[ConversationMessage]  # the latest, oldest first
    earlier: int = 0  # older messages, not read


def conversation(
    session: Session, token: str, messages: int = tickets.CONVERSATION_PAGE
) -> Conversation:
    """The ticket a reply link opens, with its latest `messages` messages; NotFound ("This
    reply link is not valid or has expired.") for an unknown or expired link, or a deleted
    ticket."""
    ticket = linked_ticket(session, token)
    organization = session.get(Organization, ticket.organization_id)
    latest = tickets.latest_messages(session, ticket.id, messages)
    return Conversation(
        ticket_id=ticket.id,
        organization_name=organization.name if organization else "",
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        messages=[
            ConversationMessage(m.author_name, m.from_requester, m.body, m.created_at)
            for m in latest.messages
        ],
        earlier=latest.earlier,
    )


def customer_reply(session: Session, token: str, body: str, *, client: str) -> TicketMessage:
    """The requester's answer through a reply link, from the address `client`.

    TooManyRequests over the per-address limit (counted before anything else, every
    attempt) or the ticket's own (`per_ticket`, counted once the link works); NotFound for
    a link that does not work; ValidationFailed (`reply`) for an
    empty or too long answer, as for a staff reply. Nothing is written when refused."""
    if wait := per_address.hit(client):
        raise TooManyRequests(
            f"Too many replies sent from your network. Please try again in {minutes(wait)}."
        )
    ticket = linked_ticket(session, token)
    if wait := per_ticket.hit(ticket.id):
        raise TooManyRequests(
            "This ticket has had many replies in a short time. Please try again in "
            f"{minutes(wait)}."
        )
    body = tickets.reply_text(body)
    message = TicketMessage(
        ticket_id=ticket.id,
        author_name=ticket.requester_name,
        from_requester=True,
        body=body,
    )
    tickets.add_reply(session, ticket, message, author_email=ticket.requester_email)
    notifications.customer_replied(session, ticket, message)
    return message
