"""/support/ticket/<token>: a ticket's requester reads the conversation and replies, signed
out (SPEC §7, §17). A thin adapter: the link, the body and the per-address limit are all
checked by `services/ticket_replies.py`, on every call, with the token of this page's own
address; this state only shows what comes back.

Live: the page follows its own ticket (topic `tickets.TICKET_TOPIC`, keyed by the ticket's
id, which stays on the server), so an agent's answer, or the ticket being closed, shows
without a reload, and changes to the organization's other tickets refresh nothing here; each
refresh asks the service with the link again, like a load.
"""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.services import ticket_replies, tickets
from orgportal.services.errors import NotFound
from orgportal.state import live
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.outcome import Form, Outcome

SENT = "Your reply was sent."
REPLY_PREFIX = routes.TICKET_REPLY.removesuffix("[token]")
PAGE = "ticket_reply"  # its live page (`state/live.py`)
YOU = "You"


@dataclasses.dataclass
class ReplyMessageRow:
    author: str  # "You" for the requester's own messages
    mine: bool
    body: str
    when: str


def _token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@live.follows(PAGE, tickets.TICKET_TOPIC)
class TicketReplyState(AppState):
    """Checks the link when the page loads (a spinner until then), then the conversation and
    the reply form; a link that does not work says so, with no form."""

    refused_by_organization: ClassVar[bool] = False  # nobody is signed in here
    live_signed_out: ClassVar[bool] = True

    checked: bool = False
    link_error: str = ""
    organization_name: str = ""
    number: str = ""
    subject: str = ""
    status: str = ""
    messages: list[ReplyMessageRow] = []  # the latest (`tickets.CONVERSATION_PAGE` at first)
    earlier_messages: int = 0  # older ones, shown on request (`show_earlier_messages`)
    sent: bool = False  # "Your reply was sent." until the next attempt
    errors: dict[str, str] = {}
    reply_key: int = 0  # moved on once sent: an empty reply box for the next message
    FORM: ClassVar[Form] = Form(errors="errors", general="reply", key="reply_key")
    _ticket_id: int = 0  # the ticket whose changes this tab follows
    _message_limit: int = tickets.CONVERSATION_PAGE

    @rx.event
    def load(self):
        self.checked, self.link_error, self.sent, self.errors = False, "", False, {}
        self._message_limit = tickets.CONVERSATION_PAGE
        self._refresh()
        self.checked = True
        live.watch(self, self._ticket_id)  # none for a link that does not work

    def _refresh(self) -> None:
        """The conversation as it is now (the live refresh's reload, too)."""
        token = _token(self.router.url.path)
        limit = self._message_limit
        self._show(
            run_signed_out(lambda session: ticket_replies.conversation(session, token, limit))
        )

    @rx.event
    def show_earlier_messages(self):
        """The next CONVERSATION_PAGE older messages too (the link checked again)."""
        if self.earlier_messages:
            self._message_limit += tickets.CONVERSATION_PAGE
        self._refresh()

    def _still_shows(self, topic: str, ticket_id: int) -> bool:
        """Is this tab still on a reply page of that ticket (live refresh)?"""
        path = self.router.url.path or ""
        return path.startswith(REPLY_PREFIX) and self._ticket_id == ticket_id

    @rx.event
    def send(self, form: dict):
        self.sent = False
        token, client = _token(self.router.url.path), self._client_address()
        body = form.get("reply", "")

        def reply(session: Session) -> ticket_replies.Conversation:
            ticket_replies.customer_reply(session, token, body, client=client)
            # with the new message
            return ticket_replies.conversation(session, token, self._message_limit)

        outcome = run_signed_out(reply)
        self._show_refusal(outcome, self.FORM)  # the body's problems, or try again later
        if outcome.refused_as(NotFound) or outcome.ok:
            self._show(outcome)
        if outcome.ok:
            self.sent, self.reply_key = True, self.reply_key + 1

    def _show(self, outcome: Outcome[ticket_replies.Conversation]) -> None:
        """The conversation, or why the link does not work (then no form)."""
        if not outcome.ok:
            self.link_error, self.messages = outcome.refusal.message, []
            self._ticket_id, self.earlier_messages = 0, 0
            return
        seen = outcome.value
        self.link_error, self._ticket_id = "", seen.ticket_id
        self.organization_name, self.number = seen.organization_name, seen.number
        self.subject, self.status = seen.subject, seen.status
        self.messages = [
            ReplyMessageRow(
                YOU if m.from_requester else m.author,
                m.from_requester,
                m.body,
                formatting.date_time(m.sent_at),
            )
            for m in seen.messages
        ]
        self.earlier_messages = seen.earlier
