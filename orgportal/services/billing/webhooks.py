"""Stripe's events (SPEC §9): checkout completed, subscription created/updated/deleted,
invoice paid or failed. Each finds its payer and ends in `subscriptions.apply`."""

import time
from dataclasses import replace
from typing import Any

from sqlmodel import Session, select

from orgportal.adapters.billing import (
    BillingGateway,
    BillingUnavailable,
    SubscriptionInfo,
    subscription_from_object,
    user_of_reference,
)
from orgportal.models import BillingEvent, Organization, Subscription, User
from orgportal.models.base import utcnow
from orgportal.services import notifications
from orgportal.services.billing.payer import Payer
from orgportal.services.billing.subscriptions import apply


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
    subscription_id = _id_of(obj.get("subscription"))
    if not subscription_id or obj.get("payment_status") != "paid":
        return
    payer = _payer_of_reference(session, str(obj.get("client_reference_id") or ""))
    if payer is None:
        return
    if not payer.personal:
        organization = session.get(Organization, payer.organization_id)
        customer = _id_of(obj.get("customer"))
        if customer and not organization.stripe_customer_id:
            organization.stripe_customer_id = customer
            session.add(organization)
    current = gateway.get_subscription(subscription_id)
    apply(session, payer, current, int(time.time()), authoritative=True)


def _payer_of_reference(session: Session, reference: str) -> Payer | None:
    """Checkout's `client_reference_id`: "user-<id>" for a personal plan, else the
    organization's id."""
    user_id = user_of_reference(reference)
    if user_id is not None:
        return Payer.user(user_id)
    if reference.isdigit() and session.get(Organization, int(reference)) is not None:
        return Payer.organization(int(reference))
    return None


def _on_subscription(
    session: Session, gateway: BillingGateway, obj: dict, created: int, *, deleted: bool
) -> None:
    """Prefer Stripe's current state over the payload, so delivery order cannot matter."""
    payload = subscription_from_object(obj)
    current = _fetch(gateway, payload.id)
    info = current or (replace(payload, status="canceled") if deleted else payload)
    payer = _payer_of(session, info)
    if payer is not None:
        apply(session, payer, info, created, authoritative=current is not None)


def _on_invoice(
    session: Session, gateway: BillingGateway, invoice: dict, created: int, *, paid: bool
) -> None:
    """A paid invoice means active, a failed one past_due (Stripe retries meanwhile)."""
    subscription_id = _id_of(invoice.get("subscription")) or _id_of(
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    row = _our_copy(session, subscription_id)
    if row is None or row.status == "canceled":
        return
    if not paid:
        notifications.payment_failed(session, row, invoice)
    info = _fetch(gateway, subscription_id)
    status = info.status if info else row.status
    if paid and status == "past_due":
        status = "active"
    elif not paid and status == "active":
        status = "past_due"
    if info:
        payer = Payer(organization_id=row.organization_id, user_id=row.user_id)
        apply(session, payer, replace(info, status=status), created, authoritative=True)
    elif created > row.state_at:
        row.status, row.state_at, row.updated_at = status, created, utcnow()
        session.add(row)


def _payer_of(session: Session, info: SubscriptionInfo) -> Payer | None:
    """A personal plan's user (metadata, else our copy), else the organization (metadata,
    else the Stripe customer)."""
    reference = info.metadata.get("user_id", "")
    if reference.isdigit() and session.get(User, int(reference)):
        return Payer.user(int(reference))
    copy = _our_copy(session, info.id)
    if copy is not None and copy.user_id:
        return Payer.user(copy.user_id)
    reference = info.metadata.get("organization_id", "")
    if reference.isdigit() and session.get(Organization, int(reference)):
        return Payer.organization(int(reference))
    organization = session.exec(
        select(Organization).where(Organization.stripe_customer_id == info.customer_id)
    ).first()
    if organization and info.customer_id:
        return Payer.organization(organization.id)
    return None


def _our_copy(session: Session, subscription_id: str) -> Subscription | None:
    return session.exec(
        select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)
    ).first()


def _fetch(gateway: BillingGateway, subscription_id: str) -> SubscriptionInfo | None:
    try:
        return gateway.get_subscription(subscription_id)
    except BillingUnavailable:
        return None


def _id_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return (value or {}).get("id", "") if isinstance(value, dict) else ""
