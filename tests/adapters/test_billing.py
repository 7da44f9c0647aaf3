"""StripeBilling over real HTTP against the fake Stripe server (localstripe, tests/fake_stripe.py).

Each test checks what our adapter sends (from the fake's request log) and what it makes of the
answers. The server is shared by the session, so every test works with its own customer.
"""

import socket
from datetime import UTC, datetime

import httpx
import pytest
import stripe

from orgportal.adapters.billing import BillingUnavailable, StripeBilling
from orgportal.services import plans

# Fixtures: stripe_server, fake_stripe, stripe_billing, stripe_webhooks.
pytest_plugins = ["tests.stripe_server"]

ORG_ID = 42
STARTER = plans.price_id("starter", "monthly")
BASIC = plans.price_id("basic", "monthly")
SUCCESS_URL = "http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://app.test/billing"
METADATA = {"organization_id": str(ORG_ID), "kind": "plan", "plan_key": "starter"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_checkout(billing: StripeBilling, customer_id: str, price_id=STARTER, quantity=1) -> str:
    url = billing.create_checkout(
        organization_id=ORG_ID,
        customer_id=customer_id,
        price_id=price_id,
        quantity=quantity,
        metadata=METADATA,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
    )
    return url.rsplit("/", 1)[-1]


@pytest.fixture
def customer_id(stripe_billing: StripeBilling) -> str:
    return stripe_billing.create_customer(organization_id=ORG_ID, name="Acme Ltd")


@pytest.fixture
def subscription_id(stripe_billing: StripeBilling, fake_stripe, customer_id) -> str:
    """An active Starter subscription for two, bought through Checkout."""
    checkout_id = start_checkout(stripe_billing, customer_id, quantity=2)
    fake_stripe.pay(checkout_id).raise_for_status()
    return stripe_billing.get_checkout(checkout_id).subscription_id


def test_create_customer_sends_organization_id(stripe_billing, fake_stripe):
    fake_stripe.clear_requests()

    customer_id = stripe_billing.create_customer(organization_id=ORG_ID, name="Acme Ltd")

    assert customer_id.startswith("cus_")
    [sent] = fake_stripe.requests("/v1/customers", "POST")
    assert sent["body"] == {"name": "Acme Ltd", "metadata": {"organization_id": "42"}}
    stored = fake_stripe.client().v1.customers.retrieve(customer_id)
    assert stored.metadata.to_dict() == {"organization_id": "42"}


def test_create_checkout_sends_a_subscription_checkout(
    stripe_billing, fake_stripe, stripe_server, customer_id
):
    fake_stripe.clear_requests()

    url = stripe_billing.create_checkout(
        organization_id=ORG_ID,
        customer_id=customer_id,
        price_id=STARTER,
        quantity=2,
        metadata=METADATA,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
    )

    assert url.startswith(f"{stripe_server}/_config/cs/cs_test_")
    [sent] = fake_stripe.requests("/v1/checkout/sessions", "POST")
    body = sent["body"]
    assert body["mode"] == "subscription"
    assert body["customer"] == customer_id
    assert body["client_reference_id"] == "42"
    assert body["line_items"] == [{"price": STARTER, "quantity": "2"}]
    assert body["success_url"] == SUCCESS_URL
    assert "{CHECKOUT_SESSION_ID}" in body["success_url"]
    assert body["cancel_url"] == CANCEL_URL
    assert body["metadata"] == METADATA
    assert body["subscription_data"] == {"metadata": METADATA}


def test_checkout_is_paid_only_after_the_customer_pays(stripe_billing, fake_stripe, customer_id):
    checkout_id = start_checkout(stripe_billing, customer_id)

    before = stripe_billing.get_checkout(checkout_id)
    assert (before.id, before.organization_id, before.paid) == (checkout_id, ORG_ID, False)
    assert before.subscription_id == ""

    fake_stripe.pay(checkout_id).raise_for_status()

    after = stripe_billing.get_checkout(checkout_id)
    assert after.paid is True
    assert after.organization_id == ORG_ID
    assert after.subscription_id.startswith("sub_")
    assert after.customer_id == customer_id


def test_paying_in_the_browser_returns_to_the_success_url(stripe_billing, customer_id):
    url = stripe_billing.create_checkout(
        organization_id=ORG_ID,
        customer_id=customer_id,
        price_id=STARTER,
        quantity=1,
        metadata=METADATA,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
    )
    checkout_id = url.rsplit("/", 1)[-1]

    response = httpx.get(url)

    assert response.status_code == 303
    assert response.headers["location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", checkout_id)
    assert stripe_billing.get_checkout(checkout_id).paid is True


def test_get_subscription_after_checkout(stripe_billing, customer_id, subscription_id):
    subscription = stripe_billing.get_subscription(subscription_id)

    assert subscription.id == subscription_id
    assert subscription.status == "active"
    assert subscription.customer_id == customer_id
    assert subscription.price_id == STARTER
    assert subscription.quantity == 2
    assert subscription.item_id.startswith("si_")
    assert subscription.metadata == METADATA
    assert subscription.current_period_end is not None
    assert subscription.current_period_end > datetime.now(UTC)


def test_update_quantity_prorates(stripe_billing, fake_stripe, subscription_id):
    item_id = stripe_billing.get_subscription(subscription_id).item_id
    fake_stripe.clear_requests()

    updated = stripe_billing.update_subscription(subscription_id, quantity=3)

    [sent] = fake_stripe.requests(f"/v1/subscriptions/{subscription_id}", "POST")
    assert sent["body"] == {
        "items": [{"id": item_id, "quantity": "3"}],
        "proration_behavior": "create_prorations",
    }
    assert (updated.quantity, updated.price_id) == (3, STARTER)
    assert stripe_billing.get_subscription(subscription_id).quantity == 3


def test_update_price_changes_plan_and_keeps_quantity(stripe_billing, fake_stripe, subscription_id):
    fake_stripe.clear_requests()

    updated = stripe_billing.update_subscription(subscription_id, price_id=BASIC)

    [sent] = fake_stripe.requests(f"/v1/subscriptions/{subscription_id}", "POST")
    assert sent["body"]["items"][0]["price"] == BASIC
    assert "quantity" not in sent["body"]["items"][0]
    assert sent["body"]["proration_behavior"] == "create_prorations"
    assert (updated.price_id, updated.quantity, updated.status) == (BASIC, 2, "active")
    assert stripe_billing.get_subscription(subscription_id).price_id == BASIC


def test_portal_url(stripe_billing, fake_stripe, stripe_server, customer_id):
    fake_stripe.clear_requests()

    url = stripe_billing.portal_url(customer_id=customer_id, return_url="http://app.test/billing")

    assert url.startswith(f"{stripe_server}/_config/bps/bps_")
    [sent] = fake_stripe.requests("/v1/billing_portal/sessions", "POST")
    assert sent["body"] == {"customer": customer_id, "return_url": "http://app.test/billing"}


def test_cancel_subscription(stripe_billing, fake_stripe, subscription_id):
    fake_stripe.clear_requests()

    stripe_billing.cancel_subscription(subscription_id)

    assert [r["method"] for r in fake_stripe.requests(f"/v1/subscriptions/{subscription_id}")] == [
        "DELETE"
    ]
    assert stripe_billing.get_subscription(subscription_id).status == "canceled"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda billing: billing.get_subscription("sub_missing"), id="404"),
        pytest.param(lambda billing: billing.get_checkout("cs_test_missing"), id="no checkout"),
        pytest.param(
            lambda billing: billing.portal_url(customer_id="cus_missing", return_url="http://x"),
            id="no customer",
        ),
        pytest.param(
            lambda billing: billing.update_subscription("sub_missing", quantity=2), id="update"
        ),
    ],
)
def test_stripe_errors_raise_billing_unavailable(stripe_billing, call):
    with pytest.raises(BillingUnavailable):
        call(stripe_billing)


def test_unknown_price_raises_billing_unavailable(stripe_billing, customer_id):
    with pytest.raises(BillingUnavailable):
        start_checkout(stripe_billing, customer_id, price_id="price_not_ours")


def test_unreachable_stripe_raises_billing_unavailable():
    billing = StripeBilling(api_key="sk_test_x", api_base=f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(BillingUnavailable):  # after the adapter's retries (about a second)
        billing.create_customer(organization_id=ORG_ID, name="Acme Ltd")


def test_checkout_completed_webhook_is_signed(
    stripe_billing, fake_stripe, stripe_webhooks, customer_id
):
    checkout_id = start_checkout(stripe_billing, customer_id)
    fake_stripe.pay(checkout_id).raise_for_status()

    delivery = stripe_webhooks.wait_for(
        "checkout.session.completed", lambda obj: obj["id"] == checkout_id
    )

    event = stripe.Webhook.construct_event(
        delivery.body, delivery.signature, stripe_webhooks.secret
    )
    session = event["data"]["object"]
    assert event["type"] == "checkout.session.completed"
    assert session["client_reference_id"] == "42"
    assert session["customer"] == customer_id
    assert session["subscription"] == stripe_billing.get_checkout(checkout_id).subscription_id
    assert session["subscription"].startswith("sub_")
    assert session["metadata"].to_dict() == METADATA
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")


def test_payment_and_changes_send_webhooks(stripe_billing, stripe_webhooks, subscription_id):
    stripe_billing.update_subscription(subscription_id, quantity=5)

    paid = stripe_webhooks.wait_for(  # the first invoice, paid at checkout
        "invoice.paid", lambda obj: obj["subscription"] == subscription_id
    )
    updated = stripe_webhooks.wait_for(
        "customer.subscription.updated", lambda obj: obj["id"] == subscription_id
    )
    for delivery in (paid, updated):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, stripe_webhooks.secret)
    item = updated.event["data"]["object"]["items"]["data"][0]
    assert (item["quantity"], item["price"]["id"]) == (5, STARTER)


def test_declined_card_leaves_checkout_unpaid_and_reports_failure(
    stripe_billing, fake_stripe, stripe_webhooks, customer_id
):
    checkout_id = start_checkout(stripe_billing, customer_id)

    response = fake_stripe.pay(checkout_id, payment_method="pm_card_chargeCustomerFail")

    assert response.status_code == 402
    assert stripe_billing.get_checkout(checkout_id).paid is False
    failed = stripe_webhooks.wait_for(
        "invoice.payment_failed", lambda obj: obj["customer"] == customer_id
    )
    stripe.Webhook.construct_event(failed.body, failed.signature, stripe_webhooks.secret)
