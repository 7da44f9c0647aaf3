"""Changing a live organization subscription from the Billing page: its plan or billing
interval, and the number of support seats. Stripe prorates both."""

import time

from sqlmodel import Session

from orgportal.adapters.billing import BillingGateway
from orgportal.db import mark_usage_changed
from orgportal.models import Subscription, User
from orgportal.models.base import utcnow
from orgportal.services import audit, seats
from orgportal.services.billing.checkout import plan_price
from orgportal.services.billing.payer import PLAN, SUPPORT, active, payer_for
from orgportal.services.billing.provider import over_site_gateway
from orgportal.services.billing.subscriptions import apply
from orgportal.services.errors import Conflict


@over_site_gateway
def change_seats(
    session: Session,
    gateway: BillingGateway,
    *,
    user: User,
    organization_id: int,
    seats_wanted: int,
) -> Subscription:
    """Set Seats Purchased; Stripe prorates. Never below Seats Used, never below 1."""
    payer = payer_for(session, user, organization_id)
    seats.lock_organization(session, organization_id)
    support = active(session, payer, SUPPORT)
    if support is None:
        raise Conflict("Subscribe to support before changing seats.")
    seats.require_seat_count(seats_wanted, seats.seats_used(session, organization_id))
    before = support.quantity
    updated = gateway.update_subscription(support.stripe_subscription_id, quantity=seats_wanted)
    support.quantity, support.state_at, support.updated_at = (
        updated.quantity,
        int(time.time()),
        utcnow(),
    )
    session.add(support)
    mark_usage_changed(session, [organization_id])
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="billing.seats_changed",
        summary=f"Changed support seats from {before} to {support.quantity}",
    )
    return support


@over_site_gateway
def change_plan(
    session: Session,
    gateway: BillingGateway,
    *,
    user: User,
    organization_id: int,
    plan_key: str,
    interval: str,
) -> Subscription:
    """Move the organization's active plan subscription to another plan or billing interval,
    after the Billing page has shown what changes (`plan_changes.summarize`). Stripe prorates
    the difference; the new limits apply at once, through the same `apply` as a webhook."""
    payer = payer_for(session, user, organization_id)
    price = plan_price(plan_key, interval)
    seats.lock_organization(session, organization_id)
    current = active(session, payer, PLAN)
    if current is None:
        raise Conflict("There is no active plan to change: subscribe first.")
    if (current.plan_key, current.interval) == (plan_key, interval):
        raise Conflict("That is already the organization's plan.")
    updated = gateway.update_subscription(current.stripe_subscription_id, price_id=price)
    row = apply(session, payer, updated, int(time.time()), authoritative=True, actor=user)
    return row or current
