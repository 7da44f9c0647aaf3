"""The billing service with real Stripe calls: our code → stripe-python → HTTP → fake Stripe →
signed webhook → POST /api/stripe/webhook → activation. Nothing of ours is replaced."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orgportal import db
from orgportal.adapters.billing import StripeBilling
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.models import AuditEvent, Role, Subscription
from orgportal.services import billing, plans
from tests.factories import add_member, make_org, make_user

pytest_plugins = ["tests.stripe_server"]


@pytest.fixture
def live_stripe(engine, monkeypatch, stripe_server, stripe_webhooks):
    """Settings as in production: a Stripe key, the API base and a webhook secret."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "stripe_secret_key", "sk_test_orgportal")
    monkeypatch.setattr(settings, "stripe_api_base", stripe_server)
    monkeypatch.setattr(settings, "stripe_webhook_secret", stripe_webhooks.secret)
    return StripeBilling("sk_test_orgportal", stripe_server)


def forward(client: TestClient, delivery) -> dict:
    """Hand a delivery the fake Stripe made, byte for byte, to our webhook endpoint."""
    response = client.post(
        "/api/stripe/webhook",
        content=delivery.body,
        headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_checkout_paid_at_stripe_activates_by_webhook_then_fallback_is_a_no_op(
    session: Session, live_stripe: StripeBilling, fake_stripe, stripe_webhooks
):
    owner = make_user(session)
    org = make_org(session, owner)
    url = billing.start_checkout(
        session, live_stripe, user=owner, organization_id=org.id, kind="plan", plan_key="basic"
    )
    session.commit()
    assert url.startswith(settings.stripe_api_base)
    checkout_id = url.rsplit("/", 1)[1]
    assert fake_stripe.pay(checkout_id).status_code in (200, 303)

    delivery = stripe_webhooks.wait_for(
        "checkout.session.completed", match=lambda obj: obj["id"] == checkout_id
    )
    client = TestClient(build_api())
    assert forward(client, delivery) == {"received": True, "duplicate": False}
    assert forward(client, delivery) == {"received": True, "duplicate": True}

    session.expire_all()
    assert plans.organization_plan(session, org).key == "basic"
    assert billing.complete_checkout(session, live_stripe, user=owner, checkout_id=checkout_id)
    session.commit()
    count = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "billing.subscribed")
    ).one()
    assert count == 1
    assert len(session.exec(select(Subscription)).all()) == 1


def test_support_seats_update_the_stripe_quantity_with_proration(
    session: Session, live_stripe: StripeBilling, fake_stripe
):
    owner = make_user(session)
    org = make_org(session, owner)
    add_member(session, org, Role.AGENT)  # support starts with Seats Used = 2
    url = billing.start_checkout(
        session, live_stripe, user=owner, organization_id=org.id, kind="support"
    )
    session.commit()
    checkout_id = url.rsplit("/", 1)[1]
    fake_stripe.pay(checkout_id)
    assert (
        fake_stripe.requests("/v1/checkout/sessions", "POST")[-1]["body"]["line_items"][0][
            "quantity"
        ]
        == "2"
    )
    assert billing.complete_checkout(session, live_stripe, user=owner, checkout_id=checkout_id)
    session.commit()

    fake_stripe.clear_requests()
    billing.change_seats(session, live_stripe, user=owner, organization_id=org.id, seats_wanted=4)
    session.commit()
    update = fake_stripe.requests(method="POST")[-1]
    assert update["path"].startswith("/v1/subscriptions/")
    assert update["body"]["proration_behavior"] == "create_prorations"
    assert update["body"]["items"][0]["quantity"] == "4"
    support = plans.active_subscription(session, org.id, "support")
    assert live_stripe.get_subscription(support.stripe_subscription_id).quantity == 4
    assert billing.overview(session, user=owner, organization_id=org.id).seats_purchased == 4
