"""Change plan with real Stripe calls (SPEC §6): our code → stripe-python → HTTP → fake
Stripe. The subscription item gets the new price with proration, and the new limits apply at
once through the same activation code as the webhooks."""

from sqlmodel import Session

from orgportal.adapters.billing import StripeBilling
from orgportal.services import billing, plans
from tests.factories import make_org, make_user

pytest_plugins = ["tests.stripe_server"]


def test_change_plan_sends_the_new_price_with_proration(
    session: Session, stripe_billing: StripeBilling, fake_stripe
):
    owner = make_user(session)
    org = make_org(session, owner)
    url = billing.start_checkout(
        session, stripe_billing, user=owner, organization_id=org.id, kind="plan", plan_key="starter"
    )
    session.commit()
    checkout_id = url.rsplit("/", 1)[1]
    fake_stripe.pay(checkout_id)
    assert billing.complete_checkout(session, stripe_billing, user=owner, checkout_id=checkout_id)
    session.commit()
    assert plans.organization_plan(session, org).key == "starter"

    fake_stripe.clear_requests()
    billing.change_plan(
        session,
        stripe_billing,
        user=owner,
        organization_id=org.id,
        plan_key="professional",
        interval="monthly",
    )
    session.commit()

    update = fake_stripe.requests(method="POST")[-1]
    assert update["path"].startswith("/v1/subscriptions/")
    assert update["body"]["proration_behavior"] == "create_prorations"
    assert update["body"]["items"][0]["price"] == plans.price_id("professional", "monthly")
    row = plans.active_subscription(session, org.id, "plan")
    assert stripe_billing.get_subscription(row.stripe_subscription_id).price_id == (
        plans.price_id("professional", "monthly")
    )
    assert plans.organization_plan(session, org).links == 10_000
