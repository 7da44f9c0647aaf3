"""Our copy of the payer's subscriptions. Every path that changes one (return-URL fallback,
Stripe webhooks, plan and seat changes, the test-mode pages) ends in `apply`, which locks the
payer's row first: webhook and fallback racing each other serialize there, and the unique
Stripe subscription id plus the `state_at` stamp make the outcome one activation with the
newest state."""

from sqlmodel import Session, col, select, update

from orgportal.adapters.billing import BillingGateway, BillingUnavailable, SubscriptionInfo
from orgportal.db import mark_personal_usage_changed, mark_usage_changed
from orgportal.models import Membership, Subscription, User
from orgportal.models.base import utcnow
from orgportal.services import audit, plans, seats, usage_counters, webhooks
from orgportal.services.billing.payer import PLAN, Payer, active
from orgportal.services.errors import Conflict, DomainError
from orgportal.wording import count


def apply(
    session: Session,
    payer: Payer,
    info: SubscriptionInfo,
    state_at: int,
    *,
    authoritative: bool = False,
    actor: User | None = None,
) -> Subscription | None:
    """Insert or update our copy of a subscription. Event payloads older than what we hold
    are ignored; `authoritative` states were just read from Stripe and always win. `actor`:
    who made the change from this app (the audit entry names them), None for Stripe's.
    A user pays for a plan only, never for support seats."""
    described = plans.describe_price(info.price_id)
    if described is None:
        return None
    kind, plan_key, interval = described
    if payer.personal and (kind != PLAN or session.get(User, payer.user_id) is None):
        return None
    _lock(session, payer)
    row = session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == info.id)
    ).first()
    if row is not None and not authoritative and state_at <= row.state_at:
        return row
    activated = row is None
    row = row or Subscription(**payer.owner, stripe_subscription_id=info.id, kind=kind)
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
    if payer.personal:
        _personal_limits_moved(session, payer.user_id)
    elif activated or previous != (row.plan_key, row.status, row.quantity):
        _audit_change(session, row, activated, actor)
        webhooks.emit(session, payer.organization_id, "subscription.changed", {"kind": row.kind, "plan": row.plan_key, "interval": row.interval, "status": row.status, "quantity": row.quantity})
        session.flush()
        usage_counters.resync_organization(session, payer.organization_id)
        mark_usage_changed(session, [payer.organization_id])  # limits moved
    return row


def _lock(session: Session, payer: Payer) -> None:
    """The payer's row is the lock (the organization's, or the user's)."""
    if payer.personal:
        session.exec(update(User).where(col(User.id) == payer.user_id).values(id=User.id))
    else:
        seats.lock_organization(session, payer.organization_id)


def _personal_limits_moved(session: Session, user_id: int) -> None:
    """The organizations the user belongs to see their pools move (the user may stop or
    start drawing on them)."""
    session.flush()
    usage_counters.resync(session, [user_id])
    organizations = session.exec(
        select(Membership.organization_id).where(Membership.user_id == user_id)
    ).all()
    mark_usage_changed(session, list(organizations))
    mark_personal_usage_changed(session, [user_id])


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


def require_active(session: Session, payer: Payer, kind: str = PLAN) -> Subscription:
    current = active(session, payer, kind)
    if current is None:
        raise Conflict(
            payer.says(
                organization="There is no active subscription to change.",
                personal="There is no active personal plan to change.",
            )
        )
    return current


def cancel_all(session: Session, gateway: BillingGateway, *, organization_id: int) -> None:
    """Cancel every live subscription of an organization that is being deleted.

    Called inside the delete's transaction: if Stripe refuses, nothing is deleted, so an
    organization can never vanish while it is still being charged.
    """
    cancel_live(session, gateway, Payer.organization(organization_id))


def cancel_personal(session: Session, gateway: BillingGateway, *, user_id: int) -> None:
    """Cancel a user's own plan before their account is deleted (likewise: if Stripe
    refuses, nothing is deleted)."""
    cancel_live(session, gateway, Payer.user(user_id))


def cancel_live(session: Session, gateway: BillingGateway, payer: Payer) -> None:
    refused = payer.says(
        organization="Could not cancel the subscription at Stripe ({}). Nothing was deleted.",
        personal="Could not cancel your plan at Stripe ({}). Your account was not deleted.",
    )
    live = session.exec(
        select(Subscription).where(
            payer.owns, col(Subscription.status).in_(plans.ENTITLED_STATUSES + ("incomplete",))
        )
    ).all()
    for row in live:
        try:
            gateway.cancel_subscription(row.stripe_subscription_id)
        except BillingUnavailable as exc:
            raise DomainError(refused.format(exc)) from exc
        row.status, row.updated_at = "canceled", utcnow()
        session.add(row)
