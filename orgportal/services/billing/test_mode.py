"""Test mode (SPEC §9): what Stripe's hosted Checkout and Customer Portal do, on in-app pages,
driving the same code: each change goes to the stand-in gateway, then Stripe's event goes
through `webhooks.handle_event`, as a webhook would. `organization_id=None` means the user's
own plan."""

from sqlmodel import Session

from orgportal.adapters.billing import TestModeBilling, personal_user
from orgportal.models import TestModeCheckout, User
from orgportal.services import plans
from orgportal.services.billing.payer import PLAN, payer_for
from orgportal.services.billing.provider import over_test_gateway, require_test_mode
from orgportal.services.billing.subscriptions import require_active
from orgportal.services.billing.webhooks import handle_event
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.permissions import Permission, require


def get_test_checkout(session: Session, *, user: User, checkout_id: str) -> TestModeCheckout:
    require_test_mode()
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


@over_test_gateway
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


@over_test_gateway
def test_mode_change_plan(
    session: Session,
    gateway: TestModeBilling,
    *,
    user: User,
    organization_id: int | None,
    plan_key: str,
    interval: str,
) -> None:
    require_test_mode()
    payer = payer_for(session, user, organization_id)
    if plan_key not in {p.key for p in plans.PAID} or interval not in plans.INTERVALS:
        raise ValidationFailed({"plan": "Choose one of the paid plans."})
    current = require_active(session, payer, PLAN)
    updated = gateway.update_subscription(
        current.stripe_subscription_id, price_id=plans.price_id(plan_key, interval)
    )
    handle_event(
        session, gateway, gateway.subscription_event("customer.subscription.updated", updated.id)
    )


@over_test_gateway
def test_mode_cancel(
    session: Session,
    gateway: TestModeBilling,
    *,
    user: User,
    organization_id: int | None,
    kind: str = PLAN,
) -> None:
    require_test_mode()
    current = require_active(session, payer_for(session, user, organization_id), kind)
    gateway.cancel_subscription(current.stripe_subscription_id)
    handle_event(
        session,
        gateway,
        gateway.subscription_event("customer.subscription.deleted", current.stripe_subscription_id),
    )


@over_test_gateway
def test_mode_fail_payment(
    session: Session, gateway: TestModeBilling, *, user: User, organization_id: int | None
) -> None:
    """Simulates a declined renewal: Stripe sends invoice.payment_failed."""
    require_test_mode()
    current = require_active(session, payer_for(session, user, organization_id), PLAN)
    handle_event(session, gateway, gateway.fail_renewal(current.stripe_subscription_id))


# The user's own plan, under the names the personal test portal has always used.


def test_mode_personal_change_plan(
    session: Session,
    gateway: TestModeBilling | None = None,
    *,
    user: User,
    plan_key: str,
    interval: str,
) -> None:
    test_mode_change_plan(
        session, gateway, user=user, organization_id=None, plan_key=plan_key, interval=interval
    )


def test_mode_personal_cancel(
    session: Session, gateway: TestModeBilling | None = None, *, user: User
) -> None:
    test_mode_cancel(session, gateway, user=user, organization_id=None)


def test_mode_personal_fail_payment(
    session: Session, gateway: TestModeBilling | None = None, *, user: User
) -> None:
    test_mode_fail_payment(session, gateway, user=user, organization_id=None)
