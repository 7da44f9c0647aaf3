"""The /tickets page: list with filters and pages, one open ticket, replies; live refresh.

Live refresh: each /tickets page registers its client token under its organization when it
loads (in this worker's memory). When a ticket is created or changed, the service marks it
on the live bus; every worker then runs `push_ticket_lists`, which reloads each of its
registered clients' states (`app.modify_state`; authenticated again, then `_load`), so new
tickets and other agents' changes appear without a reload, whichever worker made them.
"""

import asyncio
import dataclasses
import logging
import threading

import reflex as rx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from orgportal import routes
from orgportal.services import tickets
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.state.base import AppState

log = logging.getLogger(__name__)
STATUS_FILTERS = {"Open": "open", "Closed": "closed", "All statuses": ""}
ALL_DEPARTMENTS, UNASSIGNED = "All departments", "Unassigned"

_watchers: dict[int, set[str]] = {}
_watchers_lock = threading.Lock()


@dataclasses.dataclass
class TicketRow:
    id: int
    number: str
    subject: str
    requester: str
    department: str
    status: str
    created: str


@dataclasses.dataclass
class MessageRow:
    id: int
    author: str
    body: str
    when: str
    from_requester: bool


class TicketsState(AppState):
    rows: list[TicketRow] = []
    total: int = 0
    page: int = 0
    status_filter: str = "Open"
    department_filter: str = ALL_DEPARTMENTS
    department_names: list[str] = []
    error: str = ""
    selected_id: int = 0
    selected_number: str = ""
    selected_subject: str = ""
    selected_requester: str = ""
    selected_status: str = ""
    selected_department: str = UNASSIGNED
    messages: list[MessageRow] = []
    reply_errors: dict[str, str] = {}
    reply_key: int = 0
    _department_ids: dict[str, int] = {}
    _org_id: int = 0

    @rx.var
    def department_filters(self) -> list[str]:
        return [ALL_DEPARTMENTS, UNASSIGNED, *self.department_names]

    @rx.var
    def department_choices(self) -> list[str]:
        return [UNASSIGNED, *self.department_names]

    @rx.var
    def has_more(self) -> bool:
        return (self.page + 1) * tickets.PAGE_SIZE < self.total

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The list for the current filters and page, and the open ticket; this tab is then
        watched for live changes to its organization's tickets."""
        org_id = viewer.session.active_org_id or 0
        if org_id != self._org_id:  # another organization: its first page, nothing open
            self._org_id, self.page, self.selected_id = org_id, 0, 0
            self.department_filter, self._department_ids = ALL_DEPARTMENTS, {}
        _watch(self._org_id, self.router.session.client_token)
        if not self._org_id:
            self._clear("Choose an organization to see its tickets.")
            return
        department = self._department_ids.get(self.department_filter)
        try:
            listed = tickets.list_tickets(
                session,
                user=viewer.user,
                organization_id=self._org_id,
                status=STATUS_FILTERS.get(self.status_filter, ""),
                department_id=department,
                unassigned=self.department_filter == UNASSIGNED,
                limit=tickets.PAGE_SIZE,
                offset=self.page * tickets.PAGE_SIZE,
            )
        except DomainError as exc:  # e.g. a Viewer, who does not handle tickets
            self._clear(exc.message)
            return
        self.error = ""
        names = listed.department_names
        self._department_ids = {name: key for key, name in names.items()}
        self.department_names = list(names.values())
        if self.department_filter not in (ALL_DEPARTMENTS, UNASSIGNED, *names.values()):
            self.department_filter = ALL_DEPARTMENTS  # it was deleted meanwhile
        self.total = listed.total
        self.rows = [
            TicketRow(
                t.id,
                t.number,
                t.subject,
                f"{t.requester_name} <{t.requester_email}>",
                names.get(t.department_id or 0, ""),
                t.status,
                t.created_at.strftime("%d %b %Y %H:%M"),
            )
            for t in listed.tickets
        ]
        if self.selected_id:
            self._show(session, viewer.user)

    def _clear(self, message: str) -> None:
        self.rows, self.total, self.department_names, self.selected_id = [], 0, [], 0
        self.error = message

    def _show(self, session, user) -> None:
        try:
            detail = tickets.get_ticket(
                session, user=user, organization_id=self._org_id, ticket_id=self.selected_id
            )
        except DomainError:
            self.selected_id = 0
            return
        ticket = detail.ticket
        self.selected_number, self.selected_subject = ticket.number, ticket.subject
        self.selected_requester = f"{ticket.requester_name} <{ticket.requester_email}>"
        self.selected_status = ticket.status
        self.selected_department = detail.department_name or UNASSIGNED
        self.messages = [
            MessageRow(
                m.id,
                m.author_name,
                m.body,
                m.created_at.strftime("%d %b %Y %H:%M"),
                m.from_requester,
            )
            for m in detail.messages
        ]

    def _reload(self):
        """Re-read the list after a filter, page or selection change."""
        return self._run(lambda _session, _viewer: None)

    @rx.event
    def set_status_filter(self, label: str):
        self.status_filter = label if label in STATUS_FILTERS else "Open"
        self.page = 0
        return self._reload()

    @rx.event
    def set_department_filter(self, label: str):
        self.department_filter = label
        self.page = 0
        return self._reload()

    @rx.event
    def next_page(self):
        self.page += 1
        return self._reload()

    @rx.event
    def previous_page(self):
        self.page = max(0, self.page - 1)
        return self._reload()

    @rx.event
    def open_ticket(self, ticket_id: int):
        self.selected_id, self.reply_errors = ticket_id, {}
        return self._reload()

    @rx.event
    def close_ticket(self):
        return self._act(tickets.close_ticket, done="Ticket closed.", ticket_id=self.selected_id)

    @rx.event
    def reopen_ticket(self):
        return self._act(tickets.reopen_ticket, done="Ticket reopened.", ticket_id=self.selected_id)

    @rx.event
    def assign_department(self, label: str):
        department_id = self._department_ids.get(label)
        return self._act(
            tickets.assign_department,
            done=f"Assigned to {label}." if department_id else "Department cleared.",
            ticket_id=self.selected_id,
            department_id=department_id,
        )

    @rx.event
    def send_reply(self, form: dict):
        return self._act_form(  # re-keyed: an empty reply box for the next message
            tickets.reply,
            done="Reply sent.",
            errors="reply_errors",
            field="reply",
            key="reply_key",
            ticket_id=self.selected_id,
            body=form.get("reply", ""),
        )


def _watch(organization_id: int, client_token: str) -> None:
    with _watchers_lock:
        for tokens in _watchers.values():
            tokens.discard(client_token)
        if organization_id and client_token:
            _watchers.setdefault(organization_id, set()).add(client_token)


def _unwatch(client_token: str) -> None:
    with _watchers_lock:
        for tokens in _watchers.values():
            tokens.discard(client_token)


async def push_ticket_lists(app: rx.App, organization_id: int) -> None:
    """Refresh every open /tickets page of the organization that this worker serves."""
    with _watchers_lock:
        client_tokens = list(_watchers.get(organization_id, ()))
    await asyncio.gather(*(_push(app, t, organization_id) for t in client_tokens))


async def _push(app: rx.App, client_token: str, organization_id: int) -> None:
    try:
        async with app.modify_state(
            rx.BaseStateToken(ident=client_token, cls=TicketsState)
        ) as root:
            state = await root.get_state(TicketsState)
            path = (state.router.url.path or "").rstrip("/")
            if path != routes.TICKETS or state._org_id != organization_id:
                _unwatch(client_token)  # that tab moved on, or its state expired
                return
            await run_in_threadpool(state._reload)  # authenticates, then `_load`
            if not state.signed_in:
                _unwatch(client_token)  # signed out meanwhile
    except Exception:
        log.exception("live ticket refresh failed for one client")
