"""Notification mails (SPEC §17): who hears about what, and whether they want to.

Each sender here is called with one line from the service where the thing happens, in that
action's transaction, and queues its mails through the outbox (SPEC §10): the mail goes
out if and only if the action commits.

- a new ticket (public or in-app) → the agents of its department; with no department, or
  none of its members can handle tickets, everyone who can (Owners, Admins, Agents);
- a customer reply → the ticket's assignee: the member who last answered it (tickets have
  no explicit assignee), else the people a new ticket would reach;
- a member joined → the Owner and Admins;
- a pool at 80 % / 100 % of a limit → the Owner and Billing Admins, once per threshold
  and calendar month, when a new item crosses it (not on every change);
- a payment failed → the Owner and Billing Admins (a personal plan: its user).

Nobody is told about their own action. Every kind is on until its user turns it off on the
Account page's Notifications section (`update_preferences`); every mail links there.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from orgportal import routes
from orgportal.formatting import human_bytes
from orgportal.models import (
    DepartmentMember,
    Membership,
    NotificationOptOut,
    Organization,
    Role,
    Subscription,
    Ticket,
    TicketMessage,
    UsageAlert,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import outbox
from orgportal.services.errors import ValidationFailed
from orgportal.services.notification_mail import Notice, absolute, render
from orgportal.services.plans import Plan

TICKET_CREATED = "ticket_created"
CUSTOMER_REPLY = "customer_reply"
MEMBER_JOINED = "member_joined"
USAGE_THRESHOLD = "usage_threshold"
PAYMENT_FAILED = "payment_failed"

HANDLES_TICKETS = (Role.OWNER, Role.ADMIN, Role.AGENT)  # SPEC §3: view and respond
MANAGES_MEMBERS = (Role.OWNER, Role.ADMIN)
PAYS = (Role.OWNER, Role.BILLING_ADMIN)
THRESHOLDS = (100, 80)  # highest first: a jump past both says only the higher one


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str


KINDS = (
    Kind(TICKET_CREATED, "New tickets", "A ticket arrives in your department, or anywhere "
         "when it has no department (Owners, Admins and Agents)."),
    Kind(CUSTOMER_REPLY, "Customer replies", "A customer answers a ticket you replied to."),
    Kind(MEMBER_JOINED, "New members", "Someone joins an organization you manage "
         "(Owners and Admins)."),
    Kind(USAGE_THRESHOLD, "Usage limits", "An organization's links or storage reach 80 % "
         "or 100 % of its plan (Owners and Billing Admins)."),
    Kind(PAYMENT_FAILED, "Failed payments", "A payment for a plan or seats fails "
         "(Owners and Billing Admins)."),
)  # fmt: skip
KIND_KEYS = tuple(kind.key for kind in KINDS)
LABELS = {kind.key: kind.label for kind in KINDS}


# --- preferences ---------------------------------------------------------------------------


def preferences(session: Session, *, user: User) -> list[tuple[Kind, bool]]:
    """Every kind, in the settings' order, and whether this user gets it."""
    off = _opted_out(session, [user.id])
    return [(kind, (user.id, kind.key) not in off) for kind in KINDS]


def update_preferences(session: Session, *, user: User, enabled: Collection[str]) -> None:
    """The kinds in `enabled` on, every other kind off; an unknown kind changes nothing."""
    unknown = sorted(set(enabled) - set(KIND_KEYS))
    if unknown:
        raise ValidationFailed({"notifications": f"Unknown notification: {unknown[0]}."})
    session.exec(delete(NotificationOptOut).where(col(NotificationOptOut.user_id) == user.id))
    session.add_all(
        NotificationOptOut(user_id=user.id, kind=key) for key in KIND_KEYS if key not in enabled
    )


def _opted_out(session: Session, user_ids: Iterable[int]) -> set[tuple[int, str]]:
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        session.exec(
            select(NotificationOptOut.user_id, NotificationOptOut.kind).where(
                col(NotificationOptOut.user_id).in_(ids)
            )
        ).all()
    )


# --- senders ---------------------------------------------------------------------------------


def ticket_created(session: Session, ticket: Ticket, *, actor: User | None = None) -> None:
    organization = session.get(Organization, ticket.organization_id)
    notice = Notice(
        subject=f"[{ticket.number}] New ticket: {ticket.subject}",
        headline=f"New ticket {ticket.number}",
        lines=(
            f"Subject: {ticket.subject}",
            f"From: {ticket.requester_name} <{ticket.requester_email}>",
        ),
        action_label="Open the ticket",
        action_url=absolute(routes.ticket(ticket.number)),
        why=f"You get this because you handle tickets in {organization.name}.",
    )
    _send(session, organization, _ticket_agents(session, ticket), TICKET_CREATED, notice, actor)


def customer_replied(session: Session, ticket: Ticket, message: TicketMessage) -> None:
    """A requester's message on an existing ticket (from whatever channel brings it in)."""
    organization = session.get(Organization, ticket.organization_id)
    assignee = _assignee(session, ticket)
    notice = Notice(
        subject=f"[{ticket.number}] {message.author_name} replied: {ticket.subject}",
        headline=f"{message.author_name} replied on {ticket.number}",
        lines=(f"Subject: {ticket.subject}", message.body[:1000]),
        action_label="Open the ticket",
        action_url=absolute(routes.ticket(ticket.number)),
        why=f"You get this because you answered this ticket in {organization.name}.",
    )
    recipients = [assignee] if assignee else _ticket_agents(session, ticket)
    _send(session, organization, recipients, CUSTOMER_REPLY, notice)


def member_joined(session: Session, organization: Organization, member: User, role: str) -> None:
    notice = Notice(
        subject=f"{member.display_name} joined {organization.name}",
        headline=f"{member.display_name} joined {organization.name}",
        lines=(f"{member.display_name} <{member.email}> joined as {Role(role).label}.",),
        action_label="See the members",
        action_url=absolute(routes.ORG_MEMBERS),
        why=f"You get this because you manage the members of {organization.name}.",
    )
    recipients = _members_with(session, organization.id, MANAGES_MEMBERS)
    _send(session, organization, recipients, MEMBER_JOINED, notice, member)


def usage_grew(
    session: Session,
    organization_id: int | None,
    plan: Plan,
    used: Any,
    links: int = 0,
    storage_bytes: int = 0,
) -> None:
    """A new item of `links`/`storage_bytes` joins a pool that held `used` (`usage.Usage`):
    announce each limit it takes past 80 % or 100 % for the first time this month. Called
    under the pool's lock (`usage.reserve`), so two items cannot both announce it."""
    if organization_id is None:
        return  # a personal pool: nobody to tell but the person adding the item
    for metric, before, added, limit in (
        ("links", used.links, links, plan.links),
        ("storage", used.storage_bytes, storage_bytes, plan.storage_bytes),
    ):
        if not added or not limit:
            continue
        crossed = [t for t in THRESHOLDS if before * 100 < t * limit <= (before + added) * 100]
        if crossed and _first_this_period(session, organization_id, metric, crossed):
            _usage_mail(session, organization_id, plan, metric, crossed[0])


def payment_failed(session: Session, subscription: Subscription, invoice: dict) -> None:
    """Stripe's `invoice.payment_failed` for one of our subscriptions."""
    organization = (
        session.get(Organization, subscription.organization_id)
        if subscription.organization_id
        else None
    )
    amount = _amount(invoice)
    what = "seats" if subscription.kind == "support" else "plan"
    whose = organization.name if organization else "your personal plan"
    notice = Notice(
        subject=f"Payment failed for {whose}",
        headline="A payment failed",
        lines=(
            f"The payment{f' of {amount}' if amount else ''} for the {what} of {whose} failed.",
            "Stripe tries again over the next days; update the payment method to keep the plan.",
        ),
        action_label="Open billing",
        action_url=absolute(routes.ORG_BILLING if organization else routes.ACCOUNT_PLAN),
        why="You get this because you manage billing"
        + (f" for {organization.name}." if organization else "."),
    )
    if organization is not None:
        recipients = _members_with(session, organization.id, PAYS)
    else:
        user = session.get(User, subscription.user_id) if subscription.user_id else None
        recipients = [user] if user else []
    _send(session, organization, recipients, PAYMENT_FAILED, notice)


# --- recipients ------------------------------------------------------------------------------


def _members_with(session: Session, organization_id: int, roles: Collection[Role]) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(
                Membership.organization_id == organization_id,
                col(Membership.role).in_([str(role) for role in roles]),
            )
            .order_by(col(User.id))
        ).all()
    )


def _ticket_agents(session: Session, ticket: Ticket) -> list[User]:
    """Its department's members who may handle tickets; else everyone who may."""
    if ticket.department_id is not None:
        in_department = list(
            session.exec(
                select(User)
                .join(DepartmentMember, col(DepartmentMember.user_id) == User.id)
                .join(Membership, col(Membership.user_id) == User.id)
                .where(
                    DepartmentMember.department_id == ticket.department_id,
                    Membership.organization_id == ticket.organization_id,
                    col(Membership.role).in_([str(role) for role in HANDLES_TICKETS]),
                )
                .order_by(col(User.id))
            ).all()
        )
        if in_department:
            return in_department
    return _members_with(session, ticket.organization_id, HANDLES_TICKETS)


def _assignee(session: Session, ticket: Ticket) -> User | None:
    """The member who last answered the ticket, if they may still handle its tickets."""
    author_id = session.exec(
        select(TicketMessage.author_id)
        .where(
            TicketMessage.ticket_id == ticket.id,
            col(TicketMessage.from_requester).is_(False),
            col(TicketMessage.author_id).is_not(None),
        )
        .order_by(col(TicketMessage.created_at).desc(), col(TicketMessage.id).desc())
    ).first()
    if author_id is None:
        return None
    agents = _members_with(session, ticket.organization_id, HANDLES_TICKETS)
    return next((agent for agent in agents if agent.id == author_id), None)


# --- usage -----------------------------------------------------------------------------------


def _first_this_period(
    session: Session, organization_id: int, metric: str, thresholds: list[int]
) -> bool:
    """Record the thresholds as announced this month; False when the highest one already was
    (a pool that dropped below and crossed again in the same month stays quiet)."""
    period = utcnow().strftime("%Y-%m")
    known = set(
        session.exec(
            select(UsageAlert.threshold).where(
                UsageAlert.organization_id == organization_id,
                UsageAlert.metric == metric,
                UsageAlert.period == period,
            )
        ).all()
    )
    for threshold in thresholds:
        if threshold not in known:
            session.add(
                UsageAlert(
                    organization_id=organization_id,
                    metric=metric,
                    threshold=threshold,
                    period=period,
                )
            )
    session.flush()
    return thresholds[0] not in known


def _usage_mail(
    session: Session, organization_id: int, plan: Plan, metric: str, threshold: int
) -> None:
    organization = session.get(Organization, organization_id)
    reached = "reached its" if threshold >= 100 else f"used {threshold} % of its"
    notice = Notice(
        subject=f"{organization.name} {reached} {metric} limit",
        headline=f"{organization.name} {reached} {metric} limit",
        lines=(
            f"The {plan.name} plan's {metric} limit is {_limit_text(plan, metric)}.",
            "New links or files are refused at 100 %: upgrade the plan or remove items."
            if threshold >= 100
            else "Upgrade the plan before it is full, or remove items you no longer need.",
        ),
        action_label="See the plans",
        action_url=absolute(routes.ORG_BILLING),
        why=f"You get this because you manage billing for {organization.name}.",
    )
    recipients = _members_with(session, organization_id, PAYS)
    _send(session, organization, recipients, USAGE_THRESHOLD, notice)


def _limit_text(plan: Plan, metric: str) -> str:
    if metric == "links":
        return f"{plan.links:,} links"
    return human_bytes(plan.storage_bytes or 0)


def _amount(invoice: dict) -> str:
    cents = invoice.get("amount_due")
    currency = str(invoice.get("currency") or "").upper()
    if not isinstance(cents, int) or isinstance(cents, bool) or not currency:
        return ""
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency)
    return f"{symbol}{cents / 100:,.2f}" if symbol else f"{cents / 100:,.2f} {currency}"


# --- delivery --------------------------------------------------------------------------------


def _send(
    session: Session,
    organization: Organization | None,
    recipients: Iterable[User],
    kind: str,
    notice: Notice,
    actor: User | None = None,
) -> None:
    """Queue the notice for each recipient who wants this kind (never the one who acted)."""
    people = {user.id: user for user in recipients if actor is None or user.id != actor.id}
    off = _opted_out(session, people)
    rendered = render(notice, organization)
    for user_id, user in people.items():
        if (user_id, kind) in off:
            continue
        outbox.queue_mail(
            session,
            to=user.email,
            subject=notice.subject,
            body=rendered.text,
            html=rendered.html,
            link=notice.action_url,
            kind=f"notify_{kind}",
            user_id=user_id,
            organization_id=organization.id if organization else None,
        )
