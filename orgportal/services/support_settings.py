"""Ticket Prefix and the Support Subscription gate (SPEC §5, §7).

The Support Subscription unlocks Ticket Prefix and Departments. Ticket handling and
Authorized Domains are not gated: tickets keep arriving from the website plugin whatever
the subscription, and agents must be able to answer them.
"""

import re
from dataclasses import dataclass

from sqlmodel import Session

from orgportal.models import Organization, SupportSettings, User
from orgportal.models.base import utcnow
from orgportal.models.support import DEFAULT_TICKET_PREFIX
from orgportal.services import audit, plans, seats
from orgportal.services.errors import DomainError, ValidationFailed
from orgportal.services.permissions import Permission, has_permission, require
from orgportal.services.validation import FieldError

PREFIX_PATTERN = re.compile(r"[A-Za-z0-9]{1,10}")
PREFIX_HINT = "Use 1–10 letters or digits, like ACME."


class SupportSubscriptionRequired(DomainError):
    status = 402

    def __init__(self) -> None:
        super().__init__(
            "This needs an active Support Subscription. Subscribe to Support to unlock it."
        )


@dataclass(frozen=True)
class SupportOverview:
    """What the support settings cards need to know about the viewer and the organization."""

    prefix: str
    slug: str  # the public intake URL's organization part
    support_active: bool
    can_manage: bool  # Owner/Admin: prefix, departments, domains
    can_handle_tickets: bool


def require_support_subscription(session: Session, organization_id: int) -> None:
    if plans.active_subscription(session, organization_id, "support") is None:
        raise SupportSubscriptionRequired()


def require_support_admin(
    session: Session, user: User, organization_id: int, *, subscription: bool
) -> Organization:
    """Owner/Admin of the organization (NotFound for outsiders), and, where the feature is
    part of the Support Subscription, an active one."""
    organization, _ = require(session, user, organization_id, Permission.MANAGE_SUPPORT)
    if subscription:
        require_support_subscription(session, organization_id)
    return organization


def normalize_prefix(raw: str) -> str:
    value = (raw or "").strip()
    if not PREFIX_PATTERN.fullmatch(value):
        raise FieldError(PREFIX_HINT)
    return value.upper()


def current_prefix(session: Session, organization_id: int) -> str:
    row = session.get(SupportSettings, organization_id)
    return row.ticket_prefix if row else DEFAULT_TICKET_PREFIX


def overview(session: Session, *, user: User, organization_id: int) -> SupportOverview:
    organization, membership = require(session, user, organization_id, Permission.VIEW)
    return SupportOverview(
        prefix=current_prefix(session, organization_id),
        slug=organization.slug,
        support_active=plans.active_subscription(session, organization_id, "support") is not None,
        can_manage=has_permission(membership.role, Permission.MANAGE_SUPPORT),
        can_handle_tickets=has_permission(membership.role, Permission.HANDLE_TICKETS),
    )


def set_ticket_prefix(session: Session, *, user: User, organization_id: int, prefix: str) -> str:
    """New tickets use the new prefix; existing tickets keep the number they were given."""
    require_support_admin(session, user, organization_id, subscription=True)
    try:
        new = normalize_prefix(prefix)
    except FieldError as exc:
        raise ValidationFailed({"prefix": str(exc)}) from exc
    seats.lock_organization(session, organization_id)  # two first-time saves cannot collide
    row = session.get(SupportSettings, organization_id)
    old = row.ticket_prefix if row else DEFAULT_TICKET_PREFIX
    if new == old:
        return new
    row = row or SupportSettings(organization_id=organization_id)
    row.ticket_prefix, row.updated_at = new, utcnow()
    session.add(row)
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="support.prefix_changed",
        summary=f"Ticket prefix changed from {old} to {new}",
    )
    return new
