"""Buying and managing a subscription at the provider: Checkout, its return URL, the Customer
Portal, and the payer's Stripe customer. `organization_id=None` means the user's own plan."""

import time

from sqlmodel import Session

from orgportal.adapters.billing import BillingGateway, BillingUnavailable, CheckoutInfo
from orgportal.config import settings
from orgportal.models import Organization, Subscription, User
from orgportal.services import plans, seats
from orgportal.services.billing.payer import PLAN, SUPPORT, Payer, active, latest, payer_for
from orgportal.services.billing.provider import over_site_gateway
from orgportal.services.billing.subscriptions import apply
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.permissions import Permission


@over_site_gateway
def start_checkout(
    session: Session,
    gateway: BillingGateway,
    *,
    user: User,
    organization_id: int | None,
    kind: str = PLAN,
    plan_key: str = "",
    interval: str = "monthly",
    quantity: int | None = None,
) -> str:
    """The Checkout URL for the organization's plan or its support seats, or for the user's
    own plan (any signed-in user may buy one).

    Support seats: `quantity` (default Seats Used) may not go below Seats Used nor 1; it
    becomes the organization's member limit once paid."""
    payer = payer_for(session, user, organization_id)
    if kind == PLAN:
        price, quantity = plan_price(plan_key, interval), 1
    elif kind == SUPPORT and not payer.personal:
        used = seats.seats_used(session, payer.organization_id)
        quantity = max(1, used) if quantity is None else quantity
        seats.require_seat_count(quantity, used)
        price = plans.seat_price_id()
    else:
        raise ValidationFailed({"kind": "Unknown subscription."})
    if active(session, payer, kind):
        raise Conflict(
            payer.says(
                organization="This organization already has that subscription: use Manage Billing.",
                personal="You already have a personal plan: use Manage Billing.",
            )
        )
    back = f"{settings.public_url}{payer.page}"
    return gateway.create_checkout(
        organization_id=payer.organization_id,
        customer_id=customer(session, gateway, payer),
        price_id=price,
        quantity=quantity,
        metadata=payer.metadata(kind),
        success_url=f"{back}?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{back}?checkout=canceled",
        reference=payer.reference,
    )


def start_personal_checkout(
    session: Session,
    gateway: BillingGateway | None = None,
    *,
    user: User,
    plan_key: str,
    interval: str,
) -> str:
    """`start_checkout` for the user's own plan."""
    return start_checkout(
        session, gateway, user=user, organization_id=None, plan_key=plan_key, interval=interval
    )


@over_site_gateway
def complete_checkout(
    session: Session, gateway: BillingGateway, *, user: User, checkout_id: str
) -> Subscription | None:
    """The return-URL fallback: activate now if Stripe says the checkout is paid."""
    checkout = gateway.get_checkout(checkout_id)
    payer = _payer_of_checkout(session, user, checkout)
    if not checkout.paid or not checkout.subscription_id:
        return None
    current = gateway.get_subscription(checkout.subscription_id)
    return apply(session, payer, current, int(time.time()), authoritative=True)


def _payer_of_checkout(session: Session, user: User, checkout: CheckoutInfo) -> Payer:
    """Only the buyer of a personal plan, or a member of the organization, may complete it."""
    if checkout.user_id is not None:
        if checkout.user_id != user.id:
            raise NotFound("Checkout not found.")
        return Payer.user(user.id)
    if checkout.organization_id is None:
        raise NotFound("Checkout not found.")
    return payer_for(session, user, checkout.organization_id, Permission.VIEW)


@over_site_gateway
def billing_portal(
    session: Session, gateway: BillingGateway, *, user: User, organization_id: int | None
) -> str:
    """The Customer Portal of the organization, or of the user's own plan."""
    payer = payer_for(session, user, organization_id)
    if payer.personal and latest(session, payer) is None:
        raise Conflict("You have no personal plan to manage.")
    url = gateway.portal_url(
        customer_id=customer(session, gateway, payer),
        return_url=f"{settings.public_url}{payer.page}",
    )
    if payer.personal and gateway.test_mode:
        return f"{url}?personal=1"  # the test portal's own plan view
    return url


def personal_portal(session: Session, gateway: BillingGateway | None = None, *, user: User) -> str:
    """`billing_portal` for the user's own plan."""
    return billing_portal(session, gateway, user=user, organization_id=None)


def plan_price(plan_key: str, interval: str) -> str:
    """The Stripe price of a paid plan and interval; anything else is refused."""
    if plan_key not in {p.key for p in plans.PAID}:
        raise ValidationFailed({"plan": "Choose one of the paid plans."})
    if interval not in plans.INTERVALS:
        raise ValidationFailed({"interval": "Choose Monthly or Annual billing."})
    return plans.price_id(plan_key, interval)


def customer(session: Session, gateway: BillingGateway, payer: Payer) -> str:
    """The payer's Stripe customer, created on first need: one per organization, stored on
    it; a user's is the one of their earlier personal subscription, else a new one."""
    if payer.personal:
        return _personal_customer(session, gateway, payer)
    organization = session.get(Organization, payer.organization_id)
    if not organization.stripe_customer_id:
        organization.stripe_customer_id = gateway.create_customer(
            organization_id=organization.id, name=organization.name
        )
        session.add(organization)
    return organization.stripe_customer_id


def _personal_customer(session: Session, gateway: BillingGateway, payer: Payer) -> str:
    earlier = latest(session, payer)
    if earlier is not None:
        try:
            return gateway.get_subscription(earlier.stripe_subscription_id).customer_id
        except BillingUnavailable:
            pass
    user = session.get(User, payer.user_id)
    return gateway.create_customer(organization_id=None, name=user.display_name, user_id=user.id)
