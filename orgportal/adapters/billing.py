"""Billing gateways with one interface: Stripe (stripe-python's StripeClient) and offline test mode.

Both return the same plain records, and test mode answers with Stripe-shaped events, so the
activation and webhook code in `services/billing.py` is the same whichever runs.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import stripe
from sqlmodel import Session

from orgportal import routes
from orgportal.config import settings
from orgportal.models import TestModeCheckout, TestModeSubscription
from orgportal.models.base import utcnow

log = logging.getLogger(__name__)
# Stripe calls (SPEC §18): seconds to connect and to wait for an answer, and retries after
# a network failure. stripe-python's default waits 80 s per try, so a Stripe that hangs would
# hold the page for minutes; a retried POST carries the same idempotency key (applied once).
STRIPE_TIMEOUT_SECONDS = (5, 10)
STRIPE_NETWORK_RETRIES = 2
UNREACHABLE = (
    "We could not reach Stripe, our payment provider, so nothing was changed. "
    "Please try again in a few minutes."
)


class BillingUnavailable(Exception):
    """The payment provider refused or could not be reached."""


@dataclass(frozen=True)
class CheckoutInfo:
    id: str
    organization_id: int | None
    paid: bool
    subscription_id: str
    customer_id: str
    user_id: int | None = None  # a personal plan's checkout (reference "user-<id>")


def personal_reference(user_id: int) -> str:
    """The Checkout `client_reference_id` of a user's personal plan."""
    return f"user-{user_id}"


def user_of_reference(reference: str) -> int | None:
    rest = reference.removeprefix("user-")
    return int(rest) if rest != reference and rest.isdigit() else None


@dataclass(frozen=True)
class SubscriptionInfo:
    id: str
    customer_id: str
    status: str
    price_id: str
    quantity: int
    item_id: str
    current_period_end: datetime | None
    metadata: dict[str, str]


class BillingGateway(Protocol):
    test_mode: bool

    def create_customer(
        self, *, organization_id: int | None, name: str, user_id: int = 0
    ) -> str: ...

    def create_checkout(
        self,
        *,
        organization_id: int | None,
        customer_id: str,
        price_id: str,
        quantity: int,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        reference: str = "",
    ) -> str: ...

    def get_checkout(self, checkout_id: str) -> CheckoutInfo: ...

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo: ...

    def portal_url(self, *, customer_id: str, return_url: str) -> str: ...

    def update_subscription(
        self, subscription_id: str, *, quantity: int | None = None, price_id: str | None = None
    ) -> SubscriptionInfo: ...

    def cancel_subscription(self, subscription_id: str) -> None: ...


def subscription_from_object(obj: Any) -> SubscriptionInfo:
    """Read a Stripe subscription in either shape: current (period and price on the item) or
    2017-era as localstripe sends it (period on the subscription, `plan` on the item)."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or item.get("plan") or {}
    period_end = item.get("current_period_end") or data.get("current_period_end")
    customer = data.get("customer")
    return SubscriptionInfo(
        id=data["id"],
        customer_id=customer if isinstance(customer, str) else (customer or {}).get("id", ""),
        status=data.get("status", ""),
        price_id=price.get("id", "") if isinstance(price, dict) else str(price),
        quantity=int(item.get("quantity") or 1),
        item_id=item.get("id", ""),
        current_period_end=datetime.fromtimestamp(period_end, UTC) if period_end else None,
        metadata={k: str(v) for k, v in (data.get("metadata") or {}).items()},
    )


class StripeBilling:
    test_mode = False

    def __init__(self, api_key: str, api_base: str | None = None):
        options: dict[str, Any] = {
            "max_network_retries": STRIPE_NETWORK_RETRIES,
            "http_client": stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS),
        }
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(api_key, **options)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.APIConnectionError as exc:  # refused, timed out, DNS: no answer at all
            log.warning("Stripe could not be reached: %s", exc)
            raise BillingUnavailable(UNREACHABLE) from exc
        except stripe.StripeError as exc:
            raise BillingUnavailable(getattr(exc, "user_message", None) or str(exc)) from exc

    def create_customer(
        self, *, organization_id: int | None, name: str, user_id: int = 0
    ) -> str:
        owner = {"user_id": str(user_id)} if user_id else {"organization_id": str(organization_id)}
        customer = self._call(
            self.client.v1.customers.create, params={"name": name, "metadata": owner}
        )
        return customer.id

    def create_checkout(
        self,
        *,
        organization_id,
        customer_id,
        price_id,
        quantity,
        metadata,
        success_url,
        cancel_url,
        reference="",
    ) -> str:
        checkout = self._call(
            self.client.v1.checkout.sessions.create,
            params={
                "mode": "subscription",
                "customer": customer_id,
                "client_reference_id": reference or str(organization_id),
                "line_items": [{"price": price_id, "quantity": quantity}],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            },
        )
        return checkout.url

    def get_checkout(self, checkout_id: str) -> CheckoutInfo:
        checkout = self._call(self.client.v1.checkout.sessions.retrieve, checkout_id)
        data = checkout.to_dict()
        reference = data.get("client_reference_id") or ""
        return CheckoutInfo(
            id=data["id"],
            organization_id=int(reference) if reference.isdigit() else None,
            paid=data.get("status") == "complete" and data.get("payment_status") == "paid",
            subscription_id=_id_of(data.get("subscription")),
            customer_id=_id_of(data.get("customer")),
            user_id=user_of_reference(reference),
        )

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        return subscription_from_object(
            self._call(self.client.v1.subscriptions.retrieve, subscription_id)
        )

    def portal_url(self, *, customer_id: str, return_url: str) -> str:
        portal = self._call(
            self.client.v1.billing_portal.sessions.create,
            params={"customer": customer_id, "return_url": return_url},
        )
        return portal.url

    def update_subscription(self, subscription_id, *, quantity=None, price_id=None):
        current = self.get_subscription(subscription_id)
        item: dict[str, Any] = {"id": current.item_id}
        if quantity is not None:
            item["quantity"] = quantity
        if price_id is not None:
            item["price"] = price_id
        updated = self._call(
            self.client.v1.subscriptions.update,
            subscription_id,
            params={"items": [item], "proration_behavior": "create_prorations"},
        )
        return subscription_from_object(updated)

    def cancel_subscription(self, subscription_id: str) -> None:
        self._call(self.client.v1.subscriptions.cancel, subscription_id)


def _id_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return (value or {}).get("id", "") if isinstance(value, dict) else getattr(value, "id", "")


class TestModeBilling:
    """Offline stand-in for Stripe, stored in our database; its pages live in the app."""

    test_mode = True
    __test__ = False  # not a pytest test class

    def __init__(self, session: Session):
        self.session = session

    def create_customer(
        self, *, organization_id: int | None, name: str, user_id: int = 0
    ) -> str:
        return f"cus_test_{secrets.token_hex(8)}"

    def create_checkout(
        self,
        *,
        organization_id,
        customer_id,
        price_id,
        quantity,
        metadata,
        success_url,
        cancel_url,
        reference="",
    ) -> str:
        """A personal plan's checkout has no organization and its user id in metadata."""
        checkout = TestModeCheckout(
            id=f"cs_test_{secrets.token_hex(12)}",
            organization_id=organization_id,
            customer_id=customer_id,
            price_id=price_id,
            quantity=quantity,
            success_url=success_url,
            cancel_url=cancel_url,
            metadata_json=json.dumps(metadata),
        )
        self.session.add(checkout)
        return routes.test_checkout(str(checkout.id))

    def get_checkout(self, checkout_id: str) -> CheckoutInfo:
        checkout = self.session.get(TestModeCheckout, checkout_id)
        if checkout is None:
            raise BillingUnavailable("Unknown checkout session.")
        return CheckoutInfo(
            checkout.id,
            checkout.organization_id,
            checkout.status == "complete",
            checkout.subscription_id,
            checkout.customer_id,
            personal_user(checkout.metadata_json),
        )

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        row = self.session.get(TestModeSubscription, subscription_id)
        if row is None:
            raise BillingUnavailable("Unknown subscription.")
        return subscription_from_object(self.subscription_object(row))

    def portal_url(self, *, customer_id: str, return_url: str) -> str:
        return routes.TEST_PORTAL

    def update_subscription(self, subscription_id, *, quantity=None, price_id=None):
        row = self.session.get(TestModeSubscription, subscription_id)
        if row is None:
            raise BillingUnavailable("Unknown subscription.")
        row.quantity = quantity if quantity is not None else row.quantity
        row.price_id = price_id or row.price_id
        self.session.add(row)
        return subscription_from_object(self.subscription_object(row))

    def cancel_subscription(self, subscription_id: str) -> None:
        row = self.session.get(TestModeSubscription, subscription_id)
        if row is not None:
            row.status = "canceled"
            self.session.add(row)

    # --- what the test pages do in Stripe's place ---------------------------------------

    def pay(self, checkout: TestModeCheckout) -> tuple[TestModeSubscription, dict]:
        """Complete a checkout: create the subscription and the event Stripe would send."""
        row = TestModeSubscription(
            id=f"sub_test_{secrets.token_hex(10)}",
            organization_id=checkout.organization_id,
            customer_id=checkout.customer_id,
            price_id=checkout.price_id,
            quantity=checkout.quantity,
            current_period_end=utcnow() + timedelta(days=30),
            metadata_json=checkout.metadata_json,
        )
        checkout.status, checkout.subscription_id = "complete", row.id
        self.session.add_all([row, checkout])
        event = self.event(
            "checkout.session.completed",
            {
                "object": "checkout.session",
                "id": checkout.id,
                "status": "complete",
                "payment_status": "paid",
                "client_reference_id": _reference(checkout),
                "customer": checkout.customer_id,
                "subscription": row.id,
                "metadata": json.loads(checkout.metadata_json),
            },
        )
        return row, event

    def subscription_object(self, row: TestModeSubscription) -> dict:
        """A subscription shaped as Stripe's current API sends it."""
        period_end = int(row.current_period_end.timestamp())
        return {
            "object": "subscription",
            "id": row.id,
            "customer": row.customer_id,
            "status": row.status,
            "metadata": json.loads(row.metadata_json),
            "items": {
                "data": [
                    {
                        "id": f"si_{row.id}",
                        "quantity": row.quantity,
                        "price": {"id": row.price_id},
                        "current_period_end": period_end,
                    }
                ]
            },
        }

    def subscription_event(self, event_type: str, subscription_id: str) -> dict:
        row = self.session.get(TestModeSubscription, subscription_id)
        if row is None:
            raise BillingUnavailable("Unknown subscription.")
        return self.event(event_type, self.subscription_object(row))

    def fail_renewal(self, subscription_id: str) -> dict:
        """A declined renewal: the subscription goes past_due and Stripe says so by event."""
        row = self.session.get(TestModeSubscription, subscription_id)
        if row is None:
            raise BillingUnavailable("Unknown subscription.")
        row.status = "past_due"
        self.session.add(row)
        return self.invoice_event("invoice.payment_failed", subscription_id)

    def invoice_event(self, event_type: str, subscription_id: str) -> dict:
        """An invoice event as Stripe's current API shapes it (subscription under `parent`)."""
        return self.event(
            event_type,
            {
                "object": "invoice",
                "id": f"in_test_{secrets.token_hex(10)}",
                "parent": {"subscription_details": {"subscription": subscription_id}},
            },
        )

    @staticmethod
    def event(event_type: str, obj: dict) -> dict:
        return {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }


def personal_user(metadata_json: str) -> int | None:
    """The user id of a personal plan's test-mode checkout or subscription, else None."""
    reference = str(json.loads(metadata_json or "{}").get("user_id", ""))
    return int(reference) if reference.isdigit() else None


def _reference(checkout: TestModeCheckout) -> str:
    user_id = personal_user(checkout.metadata_json)
    return personal_reference(user_id) if user_id else str(checkout.organization_id)


class UnconfiguredBilling:
    """No Stripe key on a public address: every billing action explains what is missing.

    Test mode there would let anyone "pay" for a plan with a button (SPEC §11)."""

    MESSAGE = (
        "Billing is not configured on this server yet: the operator must set "
        "STRIPE_SECRET_KEY (or BILLING_TEST_MODE=1 for a demonstration)."
    )

    def __getattr__(self, name: str):
        def refuse(*_args, **_kwargs):
            raise BillingUnavailable(self.MESSAGE)

        return refuse


def gateway_from_settings(session: Session) -> BillingGateway:
    """Real Stripe when a secret key is configured; else the offline test mode (SPEC §9), but
    only on a localhost PUBLIC_URL or with BILLING_TEST_MODE=1."""
    if settings.stripe_secret_key:
        return StripeBilling(settings.stripe_secret_key, settings.stripe_api_base)
    if settings.test_mode_billing_allowed:
        return TestModeBilling(session)
    return UnconfiguredBilling()
