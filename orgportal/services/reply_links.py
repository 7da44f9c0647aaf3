"""Reply links (SPEC §7, §17): the link at the end of each staff reply's mail that brings
the ticket's requester back to its conversation (`/support/ticket/<token>`), signed out.

One new link per mail, valid for 90 days and as often as the requester likes (answering is
a conversation, not a one-time action). Only SHA-256 of the token is stored, as for every
other mailed link (`security.token_hash`). Every refusal says the same, so a guessed token
learns nothing about which tickets exist. What the page shows and accepts through a link is
`services/ticket_replies.py`; this module only makes and reads links, so `tickets.reply`
can mail one without the two modules importing each other.
"""

from datetime import timedelta

from sqlmodel import Session, select

from orgportal import routes, security
from orgportal.models import Ticket, TicketReplyLink
from orgportal.models.base import utcnow
from orgportal.services.errors import NotFound
from orgportal.services.notification_mail import absolute

LINK_TTL = timedelta(days=90)
INVALID = "This reply link is not valid or has expired."


def new_reply_link(session: Session, ticket: Ticket) -> str:
    """A new link to `ticket`'s conversation, as the absolute URL a mail carries."""
    raw = security.new_token()
    session.add(
        TicketReplyLink(
            ticket_id=ticket.id,
            token_hash=security.token_hash(raw),
            expires_at=utcnow() + LINK_TTL,
        )
    )
    return absolute(routes.ticket_reply_link(raw))


def linked_ticket(session: Session, token: str) -> Ticket:
    """The ticket a link's token opens; NotFound (INVALID) for an unknown or expired token,
    or a ticket that is gone."""
    raw = token if isinstance(token, str) else ""
    link = session.exec(
        select(TicketReplyLink).where(TicketReplyLink.token_hash == security.token_hash(raw))
    ).first()
    if link is None or link.expires_at <= utcnow():
        raise NotFound(INVALID)
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None:  # deleted (the row goes with it where foreign keys are enforced)
        raise NotFound(INVALID)
    return ticket
