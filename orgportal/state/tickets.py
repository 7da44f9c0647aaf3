"""/tickets (the list: filters in its URL, pages, a New ticket form) and /tickets/[number]
(one ticket: its conversation, reply, department, close and reopen); live refresh of both.

The list's filters live in its query string (`/tickets?status=closed&department=3&page=2`):
changing one navigates to the new URL, and `_load` reads them, so a reload, the browser's
Back button and a ticket page's "Back to tickets" all show the same list.

Live refresh: both states make up one live page ("tickets" in `state/live.py`); a list
registers its tab under its organization, a ticket page under its ticket, when it loads (in
this worker's memory). When a ticket is created or changed, the service marks the
organization's "tickets" topic and, for a change to one ticket, that ticket's "ticket" topic
(which the requester's reply page follows too) on the live bus; every worker then reloads
each tab registered there (`live.reload_shown`: `app.modify_state`, authenticated again,
then `_load`), so new tickets and other agents' changes appear without a reload, whichever
worker made them, and an open ticket is not reloaded for a change to another one.
"""

import dataclasses
from typing import ClassVar
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.services import tickets
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.state import live
from orgportal.state.base import AppState
from orgportal.state.event_threads import in_thread
from orgportal.state.outcome import Form

STATUS_FILTERS = {"Open": "open", "Closed": "closed", "All statuses": "all"}
ALL_DEPARTMENTS, UNASSIGNED, NO_DEPARTMENT = "All departments", "Unassigned", "No department"
NEW_TICKET_FIELDS = ("name", "email", "subject", "message")
NO_ORGANIZATION = "Choose an organization to see its tickets."
PAGE = TOPIC = "tickets"  # services/tickets.py marks this topic


@dataclasses.dataclass
class TicketRow:
    id: int
    number: str
    href: str
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


def _query_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number >= 0 else None


@live.follows(PAGE, TOPIC)
class TicketsState(AppState):
    rows: list[TicketRow] = []
    total: int = 0
    page: int = 0  # 0-based; the URL shows it 1-based
    status_filter: str = "Open"
    department_filter: str = ALL_DEPARTMENTS
    department_names: list[str] = []
    error: str = ""
    list_url: str = routes.TICKETS  # this list with its filters: where "Back to tickets" goes
    show_new_form: bool = False
    new_errors: dict[str, str] = {}
    new_key: int = 0
    NEW_FORM: ClassVar[Form] = Form(errors="new_errors", general="form", key="new_key")
    _department_ids: dict[str, int] = {}
    _org_id: int = 0

    @rx.var
    def department_filters(self) -> list[str]:
        return [ALL_DEPARTMENTS, UNASSIGNED, *self.department_names]

    @rx.var
    def new_department_choices(self) -> list[str]:
        return [NO_DEPARTMENT, *self.department_names]

    @rx.var
    def has_more(self) -> bool:
        return (self.page + 1) * tickets.PAGE_SIZE < self.total

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The list for the filters and page of the URL; this tab is then watched for live
        changes to its organization's tickets."""
        self._org_id = viewer.session.active_org_id or 0
        live.watch(self, self._org_id)
        if not self._org_id:
            self._clear(NO_ORGANIZATION)
            return
        query = self._page_query()
        status = str(query.get("status", "open"))
        status = status if status in STATUS_FILTERS.values() else "open"
        department = str(query.get("department", ""))
        department_id = None if department == "none" else _query_int(department)
        self.page = max(0, (_query_int(query.get("page", 1)) or 1) - 1)
        try:
            listed = self._list(session, viewer, status, department, department_id)
            if department_id is not None and department_id not in listed.department_names:
                department, department_id = "", None  # deleted meanwhile, or not ours
                listed = self._list(session, viewer, status, department, department_id)
        except DomainError as exc:  # e.g. a Viewer, who does not handle tickets
            self._clear(exc.message)
            return
        self.error = ""
        names = listed.department_names
        self._department_ids = {name: key for key, name in names.items()}
        self.department_names = list(names.values())
        self.status_filter = next(k for k, v in STATUS_FILTERS.items() if v == status)
        self.department_filter = (
            UNASSIGNED if department == "none" else names.get(department_id or 0, ALL_DEPARTMENTS)
        )
        self.list_url = self._url(self.status_filter, self.department_filter, self.page)
        self.total = listed.total
        self.rows = [
            TicketRow(
                t.id,
                t.number,
                routes.ticket(t.number),
                t.subject,
                f"{t.requester_name} <{t.requester_email}>",
                names.get(t.department_id or 0, ""),
                t.status,
                formatting.date_time(t.created_at),
            )
            for t in listed.tickets
        ]

    def _list(self, session, viewer, status, department, department_id) -> tickets.TicketPage:
        return tickets.list_tickets(
            session,
            user=viewer.user,
            organization_id=self._org_id,
            status="" if status == "all" else status,
            department_id=department_id,
            unassigned=department == "none",
            limit=tickets.PAGE_SIZE,
            offset=self.page * tickets.PAGE_SIZE,
        )

    def _clear(self, message: str) -> None:
        self.rows, self.total, self.department_names = [], 0, []
        self.error = message

    def _still_shows(self, topic: str, organization_id: int) -> bool:
        """Is this tab still on the list of that organization (live refresh)?"""
        path = (self.router.url.path or "").rstrip("/")
        return path == routes.TICKETS and self._org_id == organization_id

    def _url(self, status_label: str, department_label: str, page: int) -> str:
        """The list's URL for these filters (defaults left out: open, all departments, page 1)."""
        query: dict[str, str | int] = {}
        status = STATUS_FILTERS.get(status_label, "open")
        if status != "open":
            query["status"] = status
        if department_label == UNASSIGNED:
            query["department"] = "none"
        elif department_label in self._department_ids:
            query["department"] = self._department_ids[department_label]
        if page > 0:
            query["page"] = page + 1
        return routes.tickets_list(urlencode(query))

    def _go(self, status_label: str, department_label: str, page: int):
        """Show the new filters at once, and move to their URL (its load fills the list)."""
        self.status_filter, self.department_filter = status_label, department_label
        return rx.redirect(self._url(status_label, department_label, page))

    @rx.event
    def set_status_filter(self, label: str):
        return self._go(label if label in STATUS_FILTERS else "Open", self.department_filter, 0)

    @rx.event
    def set_department_filter(self, label: str):
        return self._go(self.status_filter, label, 0)

    @rx.event
    def next_page(self):
        return self._go(self.status_filter, self.department_filter, self.page + 1)

    @rx.event
    def previous_page(self):
        return self._go(self.status_filter, self.department_filter, max(0, self.page - 1))

    @rx.event
    def toggle_new_form(self):
        self.show_new_form, self.new_errors = not self.show_new_form, {}

    @rx.event
    async def create_ticket(self, form: dict):
        """New ticket (for a customer): on success, that ticket's page, filled in the same
        transaction, so it shows the ticket as soon as the route has changed."""
        data: dict[str, object] = {field: form.get(field, "") for field in NEW_TICKET_FIELDS}
        label = form.get("department", NO_DEPARTMENT)
        data["department_id"] = (
            None if label == NO_DEPARTMENT else self._department_ids.get(label, -1)
        )
        page = await self.get_state(TicketState)

        def action(session: Session, viewer: Viewer) -> str:
            ticket = tickets.create_ticket(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                data=data,
            )
            session.flush()
            page._show(session, viewer, ticket.number)
            return ticket.number

        outcome = await in_thread(self._attempt, action, form=self.NEW_FORM, reload=False)
        if not outcome.ok:
            return outcome.events
        created = outcome.value
        self.show_new_form = False
        # this tab leaves the list for the ticket's page (whose load watches it again): no
        # live refresh of the list it is leaving, on the way
        live.unwatch(PAGE, self.router.session.client_token)
        return [
            rx.toast.success(f"Ticket {created} created."),
            rx.redirect(routes.ticket(created)),
        ]


@live.follows(PAGE, TOPIC, tickets.TICKET_TOPIC)
class TicketState(AppState):
    """/tickets/[number]: one ticket of the active organization (the route var `number`)."""

    found: bool = False
    error: str = ""
    ticket_number: str = ""
    subject: str = ""
    requester: str = ""
    status: str = ""
    department: str = UNASSIGNED
    department_names: list[str] = []
    messages: list[MessageRow] = []  # the latest (`tickets.CONVERSATION_PAGE` at first)
    earlier_messages: int = 0  # older ones, shown on request (`show_earlier_messages`)
    reply_errors: dict[str, str] = {}
    reply_key: int = 0
    # re-keyed once sent: an empty reply box for the next message
    REPLY_FORM: ClassVar[Form] = Form(errors="reply_errors", general="reply", key="reply_key")
    _ticket_id: int = 0
    _org_id: int = 0
    _department_ids: dict[str, int] = {}
    _message_limit: int = tickets.CONVERSATION_PAGE

    @rx.var
    def department_choices(self) -> list[str]:
        return [UNASSIGNED, *self.department_names]

    def _opened(self) -> None:
        self._message_limit = tickets.CONVERSATION_PAGE  # the latest messages, each visit

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The ticket named by the URL; this tab then follows that ticket's changes (none
        when it is not found), not every ticket of the organization."""
        self._show(session, viewer, self.number)
        live.watch(self, self._ticket_id, topic=tickets.TICKET_TOPIC)

    def _show(self, session: Session, viewer: Viewer, number: str) -> None:
        """Ticket `number` of the active organization. Create Ticket fills it ahead, in its
        own transaction, before the URL names it (the page shows it as it appears;
        its load event then reads it again and watches this tab)."""
        self._org_id = viewer.session.active_org_id or 0
        if self.ticket_number != number:  # another ticket: nothing left over from the last one
            self.reply_errors, self._message_limit = {}, tickets.CONVERSATION_PAGE
        if not self._org_id:
            self._clear(NO_ORGANIZATION, number)
            return
        try:
            detail = tickets.find_ticket(
                session,
                user=viewer.user,
                organization_id=self._org_id,
                number=number,
                messages=self._message_limit,
            )
        except DomainError as exc:  # not found in this organization, or not for this role
            self._clear(exc.message, number)
            return
        ticket, names = detail.ticket, detail.department_names
        self.found, self.error, self._ticket_id = True, "", ticket.id or 0
        self.ticket_number, self.subject = ticket.number, ticket.subject
        self.requester = f"{ticket.requester_name} <{ticket.requester_email}>"
        self.status = ticket.status
        self.department = detail.department_name or UNASSIGNED
        self._department_ids = {name: key for key, name in names.items()}
        self.department_names = list(names.values())
        self.messages = [
            MessageRow(
                m.id or 0,
                m.author_name,
                m.body,
                formatting.date_time(m.created_at),
                m.from_requester,
            )
            for m in detail.messages
        ]
        self.earlier_messages = detail.earlier_messages

    def _clear(self, message: str, number: str) -> None:
        self.found, self.error, self._ticket_id = False, message, 0
        self.ticket_number, self.messages, self.earlier_messages = number, [], 0

    def _still_shows(self, topic: str, ticket_id: int) -> bool:
        """Is this tab still on that ticket (live refresh)?"""
        path = (self.router.url.path or "").rstrip("/")
        return path.startswith(routes.TICKETS + "/") and self._ticket_id == ticket_id

    @rx.event
    def show_earlier_messages(self):
        """The next CONVERSATION_PAGE older messages too (read again, with the permission)."""
        if self.earlier_messages:
            self._message_limit += tickets.CONVERSATION_PAGE
        return self._refresh()

    @rx.event
    def close_ticket(self):
        return self._act(
            tickets.close_ticket, done="Ticket closed.", ticket_id=self._ticket_id
        ).events

    @rx.event
    def reopen_ticket(self):
        return self._act(
            tickets.reopen_ticket, done="Ticket reopened.", ticket_id=self._ticket_id
        ).events

    @rx.event
    def assign_department(self, label: str):
        department_id = self._department_ids.get(label)
        return self._act(
            tickets.assign_department,
            done=f"Assigned to {label}." if department_id else "Department cleared.",
            ticket_id=self._ticket_id,
            department_id=department_id,
        ).events

    @rx.event
    def send_reply(self, form: dict):
        return self._act(
            tickets.reply,
            form=self.REPLY_FORM,
            done="Reply sent.",
            ticket_id=self._ticket_id,
            body=form.get("reply", ""),
        ).events
