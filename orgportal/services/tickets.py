"""Tickets (SPEC §7): numbering, public intake, and what agents do with them.

Numbering: one `ticket_counter` row per (organization, prefix) is bumped with
`UPDATE … SET next_value = next_value + 1 RETURNING`, which holds the row lock until the
creating transaction ends. Concurrent creators therefore queue on that row and each gets
the next number: no duplicate, no gap. The very first ticket of a prefix creates the row
under the organization lock, so two "first" tickets cannot both insert it.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func as sa_func
from sqlmodel import Session, col, select, update

from orgportal.db import mark_changed
from orgportal.models import Department, Organization, Ticket, TicketCounter, TicketMessage, User
from orgportal.models.base import utcnow
from orgportal.models.support import TicketStatus
from orgportal.services import audit, notifications, outbox, reply_links, seats, webhooks
from orgportal.services.errors import NotFound, ValidationFailed
from orgportal.services.paging import one_page
from orgportal.services.permissions import Permission, organization_row, require
from orgportal.services.support_settings import current_prefix
from orgportal.services.validation import FieldError, normalize_email, text

LIMITS = {"name": 100, "subject": 200, "message": 5000}
SINGLE_LINE = {"name", "subject"}
PAGE_SIZE = 20
# The latest messages a ticket's page shows (the agent's and the requester's); the earlier
# ones come on request, CONVERSATION_PAGE at a time: a long-running ticket's page stays small.
CONVERSATION_PAGE = 50

TOPIC = "tickets"  # the live-bus topic: open ticket lists refresh
# one ticket changed (key: its id): the requester's reply pages of that ticket only refresh
TICKET_TOPIC = "ticket"


@dataclass(frozen=True)
class Submission:
    name: str
    email: str
    subject: str
    message: str


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int
    department_names: dict[int, str]


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    department_name: str
    messages: list[TicketMessage]  # the latest, oldest first
    department_names: dict[int, str] = dataclasses.field(
        default_factory=dict
    )  # the ones to choose from
    earlier_messages: int = 0  # older than `messages`, not read


@dataclass(frozen=True)
class LatestMessages:
    """The latest messages of a ticket, oldest first, and how many came before them."""

    messages: list[TicketMessage]
    earlier: int


def latest_messages(session: Session, ticket_id: int, limit: int) -> LatestMessages:
    """The last `limit` messages of a ticket (`limit` ≥ 1), oldest first: both ticket pages
    show the latest and offer the earlier ones, so a ticket's page reads and holds a bounded
    number of messages however long its conversation has run."""
    limit = max(1, limit)
    newest_first = session.exec(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id)
        .order_by(col(TicketMessage.created_at).desc(), col(TicketMessage.id).desc())
        .limit(limit)
    ).all()
    earlier = 0
    if len(newest_first) == limit:  # only then can there be more (one count, not two)
        total = session.exec(
            select(sa_func.count())
            .select_from(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
        ).one()
        earlier = total - limit
    return LatestMessages(list(reversed(newest_first)), earlier)


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}-{value:03d}"


def next_number(session: Session, organization_id: int) -> str:
    """The next `PREFIX-NNN` of the organization, reserved until this transaction ends."""
    prefix = current_prefix(session, organization_id)
    value = _bump(session, organization_id, prefix)
    if value is None:
        seats.lock_organization(session, organization_id)
        value = _bump(session, organization_id, prefix)  # someone may have created it first
        if value is None:
            session.add(TicketCounter(organization_id=organization_id, prefix=prefix, next_value=2))
            session.flush()
            value = 1
    return format_number(prefix, value)


def _bump(session: Session, organization_id: int, prefix: str) -> int | None:
    bumped = session.exec(
        update(TicketCounter)
        .where(
            col(TicketCounter.organization_id) == organization_id,
            col(TicketCounter.prefix) == prefix,
        )
        .values(next_value=col(TicketCounter.next_value) + 1)
        .returning(col(TicketCounter.next_value))
    ).first()
    return None if bumped is None else bumped[0] - 1


def validate_submission(data: Any) -> Submission:
    """The public form's JSON body: every field a string, within its limits."""
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "Send a JSON object with name, email, subject, message."})
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for field in ("name", "email", "subject", "message"):
        raw = data.get(field)
        if not isinstance(raw, str):
            errors[field] = f"{field.capitalize()} is required."
            continue
        try:
            if field == "email":
                values[field] = normalize_email(raw)
            else:
                values[field] = text(
                    raw,
                    label=field.capitalize(),
                    min_len=1,
                    max_len=LIMITS[field],
                    single_line=field in SINGLE_LINE,  # name and subject go into mail headers
                )
        except FieldError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return Submission(**values)


def submit_public_ticket(session: Session, *, organization: Organization, data: Any) -> Ticket:
    """A ticket from the website plugin; the caller has already authorized its Origin."""
    submission = validate_submission(data)
    ticket = _open(session, organization.id, submission, source="web")
    notifications.ticket_created(session, ticket)
    mark_changed(session, TOPIC, [organization.id])
    return ticket


def create_ticket(session: Session, *, user: User, organization_id: int, data: Any) -> Ticket:
    """A ticket opened in the app by an Agent, Admin or Owner for a customer: the same fields,
    limits and numbering as the public intake, plus an optional department
    (`data["department_id"]`, an id of this organization's departments or None)."""
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    errors: dict[str, str] = {}
    try:
        submission = validate_submission(data)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    department_id = data.get("department_id") if isinstance(data, dict) else None
    if department_id is not None and not _is_department(session, organization_id, department_id):
        errors["department"] = "Choose one of the departments."
    if errors:
        raise ValidationFailed(errors)
    ticket = _open(session, organization_id, submission, source="app", department_id=department_id)
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="ticket.created",
        summary=f"Opened {ticket.number} for {submission.email}",
    )
    notifications.ticket_created(session, ticket, actor=user)
    mark_changed(session, TOPIC, [organization_id])
    return ticket


def _open(
    session: Session,
    organization_id: int,
    submission: Submission,
    *,
    source: str,
    department_id: int | None = None,
) -> Ticket:
    """A new ticket with the next number and the requester's message as its first one (the
    public intake and tickets opened in the app alike)."""
    ticket = Ticket(
        organization_id=organization_id,
        number=next_number(session, organization_id),
        subject=submission.subject,
        requester_name=submission.name,
        requester_email=submission.email,
        department_id=department_id,
        source=source,
    )
    session.add(ticket)
    session.flush()
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author_name=submission.name,
            from_requester=True,
            body=submission.message,
        )
    )
    webhooks.emit(
        session,
        organization_id,
        "ticket.created",
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "subject": ticket.subject,
            "requester_email": ticket.requester_email,
            "source": source,
        },
    )
    return ticket


def _is_department(session: Session, organization_id: int, department_id: Any) -> bool:
    if not isinstance(department_id, int) or isinstance(department_id, bool):
        return False
    department = session.get(Department, department_id)
    return department is not None and department.organization_id == organization_id


def list_tickets(
    session: Session,
    *,
    user: User,
    organization_id: int,
    status: str = "",
    department_id: int | None = None,
    unassigned: bool = False,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> TicketPage:
    """Newest first, optionally only one status and one department (or none)."""
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    where = [Ticket.organization_id == organization_id]
    if status:
        if status not in {s.value for s in TicketStatus}:
            raise ValidationFailed({"status": "Choose open or closed."})
        where.append(Ticket.status == status)
    if unassigned:
        where.append(col(Ticket.department_id).is_(None))
    elif department_id is not None:
        where.append(Ticket.department_id == department_id)
    rows, total = one_page(
        session,
        Ticket,
        *where,
        order_by=(col(Ticket.created_at).desc(), col(Ticket.id).desc()),
        limit=limit,
        offset=offset,
    )
    return TicketPage(rows, total, _department_names(session, organization_id))


def get_ticket(
    session: Session,
    *,
    user: User,
    organization_id: int,
    ticket_id: int,
    messages: int = CONVERSATION_PAGE,
) -> TicketDetail:
    """A ticket with its latest `messages` messages (`latest_messages`)."""
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    ticket = _ticket(session, organization_id, ticket_id)
    latest = latest_messages(session, ticket.id, messages)
    names = _department_names(session, organization_id)
    return TicketDetail(
        ticket,
        names.get(ticket.department_id or 0, ""),
        latest.messages,
        department_names=names,
        earlier_messages=latest.earlier,
    )


def find_ticket(
    session: Session,
    *,
    user: User,
    organization_id: int,
    number: str,
    messages: int = CONVERSATION_PAGE,
) -> TicketDetail:
    """A ticket of the organization by its number (`TKT-001`, any case), as its page shows it
    (its latest `messages` messages)."""
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    ticket = session.exec(
        select(Ticket).where(
            Ticket.organization_id == organization_id,
            Ticket.number == (number or "").strip().upper(),
        )
    ).first()
    if ticket is None:
        raise NotFound("Ticket not found.")
    return get_ticket(
        session,
        user=user,
        organization_id=organization_id,
        ticket_id=ticket.id,
        messages=messages,
    )


def reply(
    session: Session, *, user: User, organization_id: int, ticket_id: int, body: str
) -> TicketMessage:
    """A staff reply, emailed to the requester; replying to a closed ticket reopens it."""
    organization, _ = require(session, user, organization_id, Permission.HANDLE_TICKETS)
    ticket = _ticket(session, organization_id, ticket_id)
    body = reply_text(body)
    message = TicketMessage(
        ticket_id=ticket.id, author_id=user.id, author_name=user.display_name, body=body
    )
    add_reply(session, ticket, message, author_email=user.email)
    # the requester answers through this link (`ticket_replies`), which reaches this agent
    link = reply_links.new_reply_link(session, ticket)
    outbox.queue_mail(
        session,
        to=ticket.requester_email,
        subject=f"[{ticket.number}] {ticket.subject}",
        body=f"{user.display_name} of {organization.name} replied:\n\n{body}\n\n"
        f"Reply to this message: {link}\n",
        link=link,
        kind="ticket_reply",
        organization_id=organization_id,
    )
    return message


def reply_text(body: str) -> str:
    """A reply's text, an agent's or the requester's: 1 to 5000 characters, trimmed."""
    try:
        return text(body, label="Reply", min_len=1, max_len=LIMITS["message"])
    except FieldError as exc:
        raise ValidationFailed({"reply": str(exc)}) from exc


def add_reply(
    session: Session, ticket: Ticket, message: TicketMessage, *, author_email: str
) -> None:
    """`message` joins the ticket's conversation: a closed ticket opens again, open pages of
    it refresh, and the webhooks hear `ticket.replied` (whoever wrote it)."""
    session.add(message)
    _set_status(session, ticket, TicketStatus.OPEN)
    webhooks.emit(
        session,
        ticket.organization_id,
        "ticket.replied",
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "author": author_email,
            "body": message.body,
        },
    )


def assign_department(
    session: Session,
    *,
    user: User,
    organization_id: int,
    ticket_id: int,
    department_id: int | None,
) -> Ticket:
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    ticket = _ticket(session, organization_id, ticket_id)
    if department_id is not None:
        organization_row(
            session, Department, department_id, organization_id, "Department not found."
        )
    ticket.department_id = department_id
    ticket.updated_at = utcnow()
    session.add(ticket)
    mark_changed(session, TOPIC, [organization_id])
    mark_changed(session, TICKET_TOPIC, [ticket.id])
    return ticket


def close_ticket(session: Session, *, user: User, organization_id: int, ticket_id: int) -> Ticket:
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    ticket = _ticket(session, organization_id, ticket_id)
    if ticket.status != TicketStatus.CLOSED:
        webhooks.emit(
            session,
            organization_id,
            "ticket.closed",
            {"ticket_id": ticket.id, "number": ticket.number, "closed_by": user.email},
        )
    return _set_status(session, ticket, TicketStatus.CLOSED)


def reopen_ticket(session: Session, *, user: User, organization_id: int, ticket_id: int) -> Ticket:
    require(session, user, organization_id, Permission.HANDLE_TICKETS)
    return _set_status(session, _ticket(session, organization_id, ticket_id), TicketStatus.OPEN)


def _set_status(session: Session, ticket: Ticket, status: TicketStatus) -> Ticket:
    if ticket.status != status:
        ticket.status = status
        ticket.closed_at = utcnow() if status == TicketStatus.CLOSED else None
    ticket.updated_at = utcnow()
    session.add(ticket)
    mark_changed(session, TOPIC, [ticket.organization_id])  # also covers replies
    mark_changed(session, TICKET_TOPIC, [ticket.id])
    return ticket


def _ticket(session: Session, organization_id: int, ticket_id: int) -> Ticket:
    return organization_row(session, Ticket, ticket_id, organization_id, "Ticket not found.")


def _department_names(session: Session, organization_id: int) -> dict[int, str]:
    rows = session.exec(
        select(Department.id, Department.name)
        .where(Department.organization_id == organization_id)
        .order_by(sa_func.lower(Department.name))
    ).all()
    return {department_id: name for department_id, name in rows}
