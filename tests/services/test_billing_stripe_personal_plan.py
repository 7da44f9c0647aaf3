"""A personal plan through real Stripe calls (fake Stripe over HTTP, signed webhook): the
checkout carries `client_reference_id=user-<id>` and the webhook stores the user's own
subscription."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal.adapters.billing import StripeBilling
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.models import Subscription
from orgportal.services import billing, usage
from tests.factories import make_user
from tests.services.test_billing_stripe import forward, live_stripe  # noqa: F401 (fixture)

pytest_plugins = ["tests.stripe_server"]


def test_personal_checkout_paid_at_stripe_activates_by_webhook(
    session: Session,
    live_stripe: StripeBilling,  # noqa: F811 (the imported fixture)
    fake_stripe,
    stripe_webhooks,
):
    user = make_user(session)
    url = billing.start_personal_checkout(
        session, live_stripe, user=user, plan_key="basic", interval="monthly"
    )
    session.commit()
    assert url.startswith(settings.stripe_api_base)
    checkout_id = url.rsplit("/", 1)[1]
    assert fake_stripe.pay(checkout_id).status_code in (200, 303)

    delivery = stripe_webhooks.wait_for(
        "checkout.session.completed", match=lambda obj: obj["id"] == checkout_id
    )
    assert delivery.body and f"user-{user.id}".encode() in delivery.body
    client = TestClient(build_api())
    assert forward(client, delivery) == {"received": True, "duplicate": False}

    session.expire_all()
    rows = session.exec(select(Subscription).where(Subscription.user_id == user.id)).all()
    assert [(r.organization_id, r.plan_key, r.status) for r in rows] == [(None, "basic", "active")]
    assert usage.pool_for(session, user=user, organization_id=None).plan.key == "basic"
    # the return-URL fallback afterwards changes nothing
    again = billing.complete_checkout(session, live_stripe, user=user, checkout_id=checkout_id)
    assert again is not None and again.id == rows[0].id
