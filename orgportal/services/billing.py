"""Billing use cases (SPEC §5, §6, §9): subscribe, activate, webhooks, seats, portal.

Every path that changes a subscription (return-URL fallback, Stripe webhooks, the test-mode
pages) ends in `_apply`, which locks the organization row first: webhook and fallback
racing each other serialize there, and the unique Stripe subscription id plus the
`state_at` stamp make the outcome one activation with the newest state.
"""

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from orgportal import routes
from orgportal.adapters.billing import (
    BillingGateway,
    BillingUnavailable,
    SubscriptionInfo,
    TestModeBilling,
    personal_reference,
    personal_user,
    subscription_from_object,
    user_of_reference,
)
from orgportal.config import settings
from orgportal.db import mark_personal_usage_changed, mark_usage_changed
from orgportal.models import (
    BillingEvent,
    Membership,
    Organization,
    Subscription,
    TestModeCheckout,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import audit, plans, seats, usage, usage_counters
from orgportal.services.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.permissions import Permission, require
from orgportal.services.plans import Plan
from orgportal.wording import count

PLAN, SUPPORT = "plan", "support"
MAX_SEATS = seats.MAX_SEATS


@dataclass(frozen=True)
class BillingOverview:
    """What the Organization Plan and Support Subscription cards show."""

    plan: Plan
    plan_status: str  # "" on Free
    plan_interval: str
    renews_at: datetime | None
    support_status: str  # "" without a support subscription
    seats_purchased: int
    seats_used: int
    test_mode: bool
    role: str
    member_limit: seats.MemberLimit  # what limits members, said beside the limit

    @property
    def support_active(self) -> bool:
        return self.support_status in plans.ENTITLED_STATUSES

    @property
    def monthly_cost_pence(self) -> int:
        return self.seats_purchased * plans.SEAT_PRICE_PENCE

    @property
    def min_seats(self) -> int:
        return max(1, self.seats_used)


def overview(session: Session, *, user: User, organization_id: int) -> BillingOverview:
    organization, membership = require(session, user, organization_id, Permission.VIEW)
    plan_sub = _latest(session, organization_id, PLAN)
    support = _latest(session, organization_id, SUPPORT)
    return BillingOverview(
        plan=plans.organization_plan(session, organization),
        plan_status=plan_sub.status if plan_sub else "",
        plan_interval=plan_sub.interval if plan_sub else "",
        renews_at=plan_sub.current_period_end if plan_sub else None,
        support_status=support.status if support else "",
        seats_purchased=support.quantity if support else 0,
        seats_used=seats.seats_used(session, organization_id),
        test_mode=not settings.stripe_secret_key and settings.test_mode_billing_allowed,
        role=membership.role,
        member_limit=seats.member_limit(session, organization),
    )


def start_checkout(
    session: Session,
    gateway: BillingGateway,
    *,
    user: User,
    organization_id: int,
    kind: str,
    plan_key: str = "",
    interval: str = "monthly",
    quantity: int | None = None,
) -> str:
    """The Checkout URL for the organization's plan or its support seats.

    Support seats: `quantity` (default Seats Used) may not go below Seats Used nor 1; it
    becomes the organization's member limit once paid."""
    organization, _ = require(session, user, organization_id, Permission.MANAGE_BILLING)
    if kind == PLAN:
        price, quantity = _plan_price(plan_key, interval), 1
    elif kind == SUPPORT:
        used = seats.seats_used(session, organization_id)
        quantity = max(1, used) if quantity is None else quantity
        seats.require_seat_count(quantity, used)
        price = plans.seat_price_id()
    else:
        raise ValidationFailed({"kind": "Unknown subscription."})
    if plans.active_subscription(session, organization_id, kind):
        raise Conflict("This organization already has that subscription: use Manage Billing.")
    metadata = {"organization_id": str(organization_id), "kind": kind}
    return gateway.create_checkout(
        organization_id=organization_id,
        customer_id=_customer(session, gateway, organization),
        price_id=price,
        quantity=quantity,
        metadata=metadata,
        success_url=f"{settings.public_url}{routes.ORG_BILLING}?checkout=success"
        "&session_id={CHECKOUT_SESSION_ID}",
        cancel_url=f"{settings.public_url}{routes.ORG_BILLING}?checkout=canceled",
    )


def complete_checkout(
    session: Session, gateway: BillingGateway, *, user: User, checkout_id: str
) -> Subscription | None:
    """The return-URL fallback: activate now if Stripe says the checkout is paid."""
    checkout = gateway.get_checkout(checkout_id)
    if checkout.user_id is not None:
        return _complete_personal(session, gateway, user=user, checkout=checkout)
    if checkout.organization_id is None:
        raise NotFound("Checkout not found.")
    require(session, user, checkout.organization_id, Permission.VIEW)
    if not checkout.paid or not checkout.subscription_id:
        return None
    current = gateway.get_subscription(checkout.subscription_id)
    return _apply(session, checkout.organization_id, current, int(time.time()), authoritative=True)


def billing_portal(
    session: Session, gateway: BillingGateway, *, user: User, organization_id: int
) -> str:
    organization, _ = require(session, user, organization_id, Permission.MANAGE_BILLING)
    return gateway.portal_url(
        customer_id=_customer(session, gateway, organization),
        return_url=f"{settings.public_url}{routes.ORG_BILLING}",
    )


def change_seats(
    session: Session,
    gateway: BillingGateway,
    *,
    user: User,
    organization_id: int,
    seats_wanted: int,
) -> Subscription:
    """Set Seats Purchased; Stripe prorates. Never below Seats Used, never below 1."""
    require(session, user, organization_id, Permission.MANAGE_BILLING)
    seats.lock_organization(session, organization_id)
    support = plans.active_subscription(session, organization_id, SUPPORT)
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
    the difference; the new limits apply at once, through the same `_apply` as a webhook."""
    require(session, user, organization_id, Permission.MANAGE_BILLING)
    price = _plan_price(plan_key, interval)
    seats.lock_organization(session, organization_id)
    current = plans.active_subscription(session, organization_id, PLAN)
    if current is None:
        raise Conflict("There is no active plan to change: subscribe first.")
    if (current.plan_key, current.interval) == (plan_key, interval):
        raise Conflict("That is already the organization's plan.")
    updated = gateway.update_subscription(current.stripe_subscription_id, price_id=price)
    row = _apply(
        session, organization_id, updated, int(time.time()), authoritative=True, actor=user
    )
    return row or current


def _plan_price(plan_key: str, interval: str) -> str:
    """The Stripe price of a paid plan and interval; anything else is refused."""
    if plan_key not in {p.key for p in plans.PAID}:
        raise ValidationFailed({"plan": "Choose one of the paid plans."})
    if interval not in plans.INTERVALS:
        raise ValidationFailed({"interval": "Choose Monthly or Annual billing."})
    return plans.price_id(plan_key, interval)


def cancel_all(session: Session, gateway: BillingGateway, *, organization_id: int) -> None:
    """Cancel every live subscription of an organization that is being deleted.

    Called inside the delete's transaction: if Stripe refuses, nothing is deleted, so an
    organization can never vanish while it is still being charged.
    """
    _cancel_live(
        session,
        gateway,
        Subscription.organization_id == organization_id,
        refused="Could not cancel the subscription at Stripe ({}). Nothing was deleted.",
    )


def cancel_personal(session: Session, gateway: BillingGateway, *, user_id: int) -> None:
    """Cancel a user's own plan before their account is deleted (likewise: if Stripe
    refuses, nothing is deleted)."""
    _cancel_live(
        session,
        gateway,
        Subscription.user_id == user_id,
        refused="Could not cancel your plan at Stripe ({}). Your account was not deleted.",
    )


def _cancel_live(session: Session, gateway: BillingGateway, whose, *, refused: str) -> None:
    live = session.exec(
        select(Subscription).where(
            whose, col(Subscription.status).in_(plans.ENTITLED_STATUSES + ("incomplete",))
        )
    ).all()
    for row in live:
        try:
            gateway.cancel_subscription(row.stripe_subscription_id)
        except BillingUnavailable as exc:
            raise DomainError(refused.format(exc)) from exc
        row.status, row.updated_at = "canceled", utcnow()
        session.add(row)


# --- personal plans (a user's own subscription, used in the Personal Workspace) ----------


@dataclass(frozen=True)
class PersonalPlan:
    """What the "Your plan" card of /account shows."""

    plan: Plan  # the effective plan
    source: str  # "Your plan: Professional — from Acme's subscription", … "Your plan: Free"
    status: str  # the personal subscription's status, "" without one
    interval: str
    renews_at: datetime | None
    test_mode: bool

    @property
    def own_active(self) -> bool:
        return self.status in plans.ENTITLED_STATUSES


def effective_plan_source(session: Session, *, user: User) -> str:
    """Which plan is in effect for the user, and why (SPEC §6 effective-plan rule)."""
    source = usage.effective_plans(session, [user.id])[user.id]
    if source.organization_id is not None:
        organization = session.get(Organization, source.organization_id)
        name = organization.name if organization else "your organization"
        return f"Your plan: {source.plan.name} — from {name}'s subscription"
    if source.plan.key != plans.FREE.key:
        return f"Your plan: {source.plan.name} — your own subscription"
    return "Your plan: Free"


def personal_overview(session: Session, *, user: User) -> PersonalPlan:
    own = _latest_personal(session, user.id)
    return PersonalPlan(
        plan=usage.effective_plans(session, [user.id])[user.id].plan,
        source=effective_plan_source(session, user=user),
        status=own.status if own else "",
        interval=own.interval if own else "",
        renews_at=own.current_period_end if own else None,
        test_mode=not settings.stripe_secret_key and settings.test_mode_billing_allowed,
    )


def start_personal_checkout(
    session: Session, gateway: BillingGateway, *, user: User, plan_key: str, interval: str
) -> str:
    """The Checkout URL for the user's own plan (any signed-in user may buy one)."""
    if plan_key not in {p.key for p in plans.PAID}:
        raise ValidationFailed({"plan": "Choose one of the paid plans."})
    if interval not in plans.INTERVALS:
        raise ValidationFailed({"interval": "Choose Monthly or Annual billing."})
    if _active_personal(session, user.id):
        raise Conflict("You already have a personal plan: use Manage Billing.")
    return gateway.create_checkout(
        organization_id=None,
        customer_id=_personal_customer(session, gateway, user),
        price_id=plans.price_id(plan_key, interval),
        quantity=1,
        metadata={"user_id": str(user.id), "kind": PLAN},
        success_url=f"{settings.public_url}{routes.ACCOUNT_PLAN}?checkout=success"
        "&session_id={CHECKOUT_SESSION_ID}",
        cancel_url=f"{settings.public_url}{routes.ACCOUNT_PLAN}?checkout=canceled",
        reference=personal_reference(user.id),
    )


def personal_portal(session: Session, gateway: BillingGateway, *, user: User) -> str:
    if _latest_personal(session, user.id) is None:
        raise Conflict("You have no personal plan to manage.")
    url = gateway.portal_url(
        customer_id=_personal_customer(session, gateway, user),
        return_url=f"{settings.public_url}{routes.ACCOUNT_PLAN}",
    )
    return f"{url}?personal=1" if gateway.test_mode else url  # the test portal's own plan view


def test_mode_personal_change_plan(
    session: Session, gateway: TestModeBilling, *, user: User, plan_key: str, interval: str
) -> None:
    _require_test_mode()
    _check_plan_choice(plan_key, interval)
    _test_mode_switch_price(
        session, gateway, _require_personal(session, user.id), plan_key, interval
    )


def test_mode_personal_cancel(session: Session, gateway: TestModeBilling, *, user: User) -> None:
    _require_test_mode()
    _test_mode_end(session, gateway, _require_personal(session, user.id))


def test_mode_personal_fail_payment(
    session: Session, gateway: TestModeBilling, *, user: User
) -> None:
    _require_test_mode()
    _test_mode_decline_renewal(session, gateway, _require_personal(session, user.id))


def _complete_personal(
    session: Session, gateway: BillingGateway, *, user: User, checkout
) -> Subscription | None:
    if checkout.user_id != user.id:
        raise NotFound("Checkout not found.")
    if not checkout.paid or not checkout.subscription_id:
        return None
    current = gateway.get_subscription(checkout.subscription_id)
    return _apply_personal(session, user.id, current, int(time.time()), authoritative=True)


def _personal_customer(session: Session, gateway: BillingGateway, user: User) -> str:
    """The Stripe customer of the user's earlier personal subscription, else a new one."""
    earlier = _latest_personal(session, user.id)
    if earlier is not None:
        try:
            return gateway.get_subscription(earlier.stripe_subscription_id).customer_id
        except BillingUnavailable:
            pass
    return gateway.create_customer(organization_id=None, name=user.display_name, user_id=user.id)


def _active_personal(session: Session, user_id: int) -> Subscription | None:
    return session.exec(
        select(Subscription)
        .where(
            Subscription.user_id == user_id,
            Subscription.kind == PLAN,
            col(Subscription.status).in_(plans.ENTITLED_STATUSES),
        )
        .order_by(col(Subscription.updated_at).desc())
    ).first()


def _latest_personal(session: Session, user_id: int) -> Subscription | None:
    return (
        _active_personal(session, user_id)
        or session.exec(
            select(Subscription)
            .where(Subscription.user_id == user_id, Subscription.kind == PLAN)
            .order_by(col(Subscription.updated_at).desc())
        ).first()
    )


def _require_personal(session: Session, user_id: int) -> Subscription:
    current = _active_personal(session, user_id)
    if current is None:
        raise Conflict("There is no active personal plan to change.")
    return current


def _apply_personal(
    session: Session, user_id: int, info: SubscriptionInfo, state_at: int, *, authoritative: bool
) -> Subscription | None:
    """`_apply` for a personal plan: the user's row is the lock; the organizations the user
    belongs to see their pools move (the user may stop or start drawing on them)."""
    described = plans.describe_price(info.price_id)
    if described is None or described[0] != PLAN or session.get(User, user_id) is None:
        return None
    _, plan_key, interval = described
    session.exec(update(User).where(col(User.id) == user_id).values(id=User.id))
    row = session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == info.id)
    ).first()
    if row is not None and not authoritative and state_at <= row.state_at:
        return row
    row = row or Subscription(user_id=user_id, stripe_subscription_id=info.id, kind=PLAN)
    row.plan_key, row.interval, row.status, row.quantity = (
        plan_key,
        interval,
        info.status,
        info.quantity,
    )
    row.current_period_end = info.current_period_end or row.current_period_end
    row.state_at, row.updated_at = max(state_at, row.state_at), utcnow()
    session.add(row)
    session.flush()
    usage_counters.resync(session, [user_id])
    organizations = session.exec(
        select(Membership.organization_id).where(Membership.user_id == user_id)
    ).all()
    mark_usage_changed(session, list(organizations))
    mark_personal_usage_changed(session, [user_id])
    return row


# --- webhooks ---------------------------------------------------------------------------


def handle_event(session: Session, gateway: BillingGateway, event: dict[str, Any]) -> bool:
    """Apply one (already verified) Stripe event; False when it was handled before."""
    if session.get(BillingEvent, event["id"]) is not None:
        return False
    session.add(BillingEvent(id=event["id"], type=event["type"]))
    session.flush()  # a concurrent duplicate fails here (primary key) and rolls back whole
    obj, created = event["data"]["object"], int(event.get("created") or time.time())
    kind = event["type"]
    if kind == "checkout.session.completed":
        _on_checkout_completed(session, gateway, obj)
    elif kind.startswith("customer.subscription."):
        _on_subscription(session, gateway, obj, created, deleted=kind.endswith(".deleted"))
    elif kind in ("invoice.paid", "invoice.payment_failed"):
        _on_invoice(session, gateway, obj, created, paid=kind == "invoice.paid")
    return True


def _on_checkout_completed(session: Session, gateway: BillingGateway, obj: dict) -> None:
    reference = str(obj.get("client_reference_id") or "")
    subscription_id = _id_of(obj.get("subscription"))
    if not subscription_id or obj.get("payment_status") != "paid":
        return
    user_id = user_of_reference(reference)
    if user_id is not None:
        current = gateway.get_subscription(subscription_id)
        _apply_personal(session, user_id, current, int(time.time()), authoritative=True)
        return
    if not reference.isdigit():
        return
    organization = session.get(Organization, int(reference))
    if organization is None:
        return
    customer = _id_of(obj.get("customer"))
    if customer and not organization.stripe_customer_id:
        organization.stripe_customer_id = customer
        session.add(organization)
    current = gateway.get_subscription(subscription_id)
    _apply(session, organization.id, current, int(time.time()), authoritative=True)


def _on_subscription(
    session: Session, gateway: BillingGateway, obj: dict, created: int, *, deleted: bool
) -> None:
    """Prefer Stripe's current state over the payload, so delivery order cannot matter."""
    payload = subscription_from_object(obj)
    current = _fetch(gateway, payload.id)
    info = current or (replace(payload, status="canceled") if deleted else payload)
    user_id = _user_of(session, info)
    if user_id:
        _apply_personal(session, user_id, info, created, authoritative=current is not None)
        return
    organization_id = _organization_of(session, info)
    if organization_id:
        _apply(session, organization_id, info, created, authoritative=current is not None)


def _on_invoice(
    session: Session, gateway: BillingGateway, invoice: dict, created: int, *, paid: bool
) -> None:
    """A paid invoice means active, a failed one past_due (Stripe retries meanwhile)."""
    subscription_id = _id_of(invoice.get("subscription")) or _id_of(
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    row = session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)
    ).first()
    if row is None or row.status == "canceled":
        return
    info = _fetch(gateway, subscription_id)
    status = info.status if info else row.status
    if paid and status == "past_due":
        status = "active"
    elif not paid and status == "active":
        status = "past_due"
    if info and row.user_id is not None:
        _apply_personal(
            session, row.user_id, replace(info, status=status), created, authoritative=True
        )
    elif info:
        _apply(
            session, row.organization_id, replace(info, status=status), created, authoritative=True
        )
    elif created > row.state_at:
        row.status, row.state_at, row.updated_at = status, created, utcnow()
        session.add(row)


def _fetch(gateway: BillingGateway, subscription_id: str) -> SubscriptionInfo | None:
    try:
        return gateway.get_subscription(subscription_id)
    except BillingUnavailable:
        return None


# --- test mode: what Stripe's hosted pages do, driving the same code ---------------------


def _require_test_mode() -> None:
    """With real Stripe configured, or on a public address without BILLING_TEST_MODE=1,
    nothing may be 'paid' through the in-app test pages."""
    if settings.stripe_secret_key:
        raise PermissionDenied("Test mode is off: billing runs through Stripe.")
    if not settings.test_mode_billing_allowed:
        raise PermissionDenied("Test mode is off: billing is not configured on this server.")


def get_test_checkout(session: Session, *, user: User, checkout_id: str) -> TestModeCheckout:
    _require_test_mode()
    checkout = session.get(TestModeCheckout, checkout_id)
    if checkout is None:
        raise NotFound("Checkout not found.")
    owner = personal_user(checkout.metadata_json)
    if owner is not None:  # a personal plan: only its buyer may pay
        if owner != user.id:
            raise NotFound("Checkout not found.")
        return checkout
    require(session, user, checkout.organization_id, Permission.MANAGE_BILLING)
    return checkout


def pay_test_checkout(
    session: Session, gateway: TestModeBilling, *, user: User, checkout_id: str
) -> str:
    """Test checkout → Pay: Stripe's event goes through `handle_event`; returns success_url."""
    checkout = get_test_checkout(session, user=user, checkout_id=checkout_id)
    if checkout.status != "open":
        raise Conflict("This checkout has already been completed.")
    _, event = gateway.pay(checkout)
    handle_event(session, gateway, event)
    return checkout.success_url.replace("{CHECKOUT_SESSION_ID}", checkout.id)


def test_mode_change_plan(
    session: Session,
    gateway: TestModeBilling,
    *,
    user: User,
    organization_id: int,
    plan_key: str,
    interval: str,
) -> None:
    _require_test_mode()
    require(session, user, organization_id, Permission.MANAGE_BILLING)
    _check_plan_choice(plan_key, interval)
    current = _require_active(session, organization_id, PLAN)
    _test_mode_switch_price(session, gateway, current, plan_key, interval)


def test_mode_cancel(
    session: Session, gateway: TestModeBilling, *, user: User, organization_id: int, kind: str
) -> None:
    _require_test_mode()
    require(session, user, organization_id, Permission.MANAGE_BILLING)
    _test_mode_end(session, gateway, _require_active(session, organization_id, kind))


def test_mode_fail_payment(
    session: Session, gateway: TestModeBilling, *, user: User, organization_id: int
) -> None:
    """Simulates a declined renewal: Stripe sends invoice.payment_failed."""
    _require_test_mode()
    require(session, user, organization_id, Permission.MANAGE_BILLING)
    _test_mode_decline_renewal(session, gateway, _require_active(session, organization_id, PLAN))


# What the test portal does to one subscription (organization or personal): it changes the
# stand-in's row, then hands Stripe's event to `handle_event`, as a webhook would.


def _check_plan_choice(plan_key: str, interval: str) -> None:
    if plan_key not in {p.key for p in plans.PAID} or interval not in plans.INTERVALS:
        raise ValidationFailed({"plan": "Choose one of the paid plans."})


def _test_mode_switch_price(
    session: Session, gateway: TestModeBilling, current: Subscription, plan_key: str, interval: str
) -> None:
    updated = gateway.update_subscription(
        current.stripe_subscription_id, price_id=plans.price_id(plan_key, interval)
    )
    handle_event(
        session, gateway, gateway.subscription_event("customer.subscription.updated", updated.id)
    )


def _test_mode_end(session: Session, gateway: TestModeBilling, current: Subscription) -> None:
    gateway.cancel_subscription(current.stripe_subscription_id)
    handle_event(
        session,
        gateway,
        gateway.subscription_event("customer.subscription.deleted", current.stripe_subscription_id),
    )


def _test_mode_decline_renewal(
    session: Session, gateway: TestModeBilling, current: Subscription
) -> None:
    """Simulates a declined renewal: Stripe sends invoice.payment_failed."""
    handle_event(session, gateway, gateway.fail_renewal(current.stripe_subscription_id))


# --- shared steps ---------------------------------------------------------------------


def _apply(
    session: Session,
    organization_id: int,
    info: SubscriptionInfo,
    state_at: int,
    *,
    authoritative: bool = False,
    actor: User | None = None,
) -> Subscription | None:
    """Insert or update our copy of a subscription. Event payloads older than what we hold
    are ignored; `authoritative` states were just read from Stripe and always win. `actor`:
    who made the change from this app (the audit entry names them), None for Stripe's."""
    described = plans.describe_price(info.price_id)
    if described is None:
        return None
    kind, plan_key, interval = described
    seats.lock_organization(session, organization_id)
    row = session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == info.id)
    ).first()
    if row is not None and not authoritative and state_at <= row.state_at:
        return row
    activated = row is None
    row = row or Subscription(
        organization_id=organization_id, stripe_subscription_id=info.id, kind=kind
    )
    previous = (row.plan_key, row.status, row.quantity)
    row.plan_key, row.interval, row.status, row.quantity = (
        plan_key,
        interval,
        info.status,
        info.quantity,
    )
    row.current_period_end = info.current_period_end or row.current_period_end
    row.state_at, row.updated_at = max(state_at, row.state_at), utcnow()
    session.add(row)
    if activated or previous != (row.plan_key, row.status, row.quantity):
        _audit_change(session, row, activated, actor)
        session.flush()
        usage_counters.resync_organization(session, organization_id)
        mark_usage_changed(session, [organization_id])  # limits moved
    return row


def _audit_change(
    session: Session, row: Subscription, activated: bool, actor: User | None = None
) -> None:
    what = (
        f"{plans.PLANS[row.plan_key].name} plan ({row.interval})"
        if row.kind == PLAN
        else f"support subscription ({count(row.quantity, 'seat')})"
    )
    action = "billing.subscribed" if activated else "billing.subscription_updated"
    summary = f"Subscribed to the {what}" if activated else f"The {what} is now {row.status}"
    audit.record(
        session, organization_id=row.organization_id, actor=actor, action=action, summary=summary
    )


def _customer(session: Session, gateway: BillingGateway, organization: Organization) -> str:
    """One Stripe customer per organization, created on first need."""
    if not organization.stripe_customer_id:
        organization.stripe_customer_id = gateway.create_customer(
            organization_id=organization.id, name=organization.name
        )
        session.add(organization)
    return organization.stripe_customer_id


def _user_of(session: Session, info: SubscriptionInfo) -> int | None:
    """The user of a personal plan's subscription (metadata, else our copy), else None."""
    reference = info.metadata.get("user_id", "")
    if reference.isdigit() and session.get(User, int(reference)):
        return int(reference)
    row = session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == info.id)
    ).first()
    return row.user_id if row is not None else None


def _organization_of(session: Session, info: SubscriptionInfo) -> int | None:
    reference = info.metadata.get("organization_id", "")
    if reference.isdigit() and session.get(Organization, int(reference)):
        return int(reference)
    organization = session.exec(
        select(Organization).where(Organization.stripe_customer_id == info.customer_id)
    ).first()
    return organization.id if organization and info.customer_id else None


def _latest(session: Session, organization_id: int, kind: str) -> Subscription | None:
    """The entitled subscription of that kind, else the most recent one (to show its status)."""
    return (
        plans.active_subscription(session, organization_id, kind)
        or session.exec(
            select(Subscription)
            .where(Subscription.organization_id == organization_id, Subscription.kind == kind)
            .order_by(col(Subscription.updated_at).desc())
        ).first()
    )


def _require_active(session: Session, organization_id: int, kind: str) -> Subscription:
    current = plans.active_subscription(session, organization_id, kind)
    if current is None:
        raise Conflict("There is no active subscription to change.")
    return current


def _id_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return (value or {}).get("id", "") if isinstance(value, dict) else ""
