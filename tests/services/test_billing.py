"""Billing rules over the offline test-mode gateway: the same activation and event code as Stripe."""

import time

import pytest
from sqlmodel import Session, select

from orgportal.adapters.billing import TestModeBilling
from orgportal.models import Role, Subscription
from orgportal.services import billing, invitations, plans
from orgportal.services.errors import (
    Conflict,
    NoSeatsAvailable,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import add_member, audit_actions, make_org, make_user


def checkout_id_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def subscribe(session: Session, owner, org, kind="plan", plan_key="starter", interval="monthly"):
    """Subscribe through the test checkout, as the Pay button does; returns the checkout id."""
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session,
        gateway,
        user=owner,
        organization_id=org.id,
        kind=kind,
        plan_key=plan_key,
        interval=interval,
    )
    checkout_id = checkout_id_of(url)
    back = billing.pay_test_checkout(session, gateway, user=owner, checkout_id=checkout_id)
    assert back.endswith(f"/organization/billing?checkout=success&session_id={checkout_id}")
    session.commit()
    return checkout_id


def test_subscribe_starter_in_test_mode_raises_the_limits(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    assert plans.organization_plan(session, org).links == 50

    subscribe(session, owner, org)

    assert plans.organization_plan(session, org).key == "starter"
    assert plans.organization_plan(session, org).links == 500
    view = billing.overview(session, user=owner, organization_id=org.id)
    assert (view.plan.name, view.plan_status, view.plan_interval) == (
        "Starter",
        "active",
        "monthly",
    )
    assert view.renews_at is not None
    assert org.stripe_customer_id.startswith("cus_test_")
    assert audit_actions(session, org.id).count("billing.subscribed") == 1


def test_fallback_after_webhook_activates_exactly_once(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    checkout_id = subscribe(session, owner, org)  # Pay ran the checkout.session.completed event

    gateway = TestModeBilling(session)
    again = billing.complete_checkout(session, gateway, user=owner, checkout_id=checkout_id)
    session.commit()

    assert again is not None and again.status == "active"
    rows = session.exec(select(Subscription).where(Subscription.organization_id == org.id)).all()
    assert len(rows) == 1
    assert audit_actions(session, org.id).count("billing.subscribed") == 1


def test_fallback_before_payment_activates_nothing(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key="basic"
    )
    assert (
        billing.complete_checkout(session, gateway, user=owner, checkout_id=checkout_id_of(url))
        is None
    )
    assert plans.organization_plan(session, org).key == "free"


def test_the_same_event_twice_is_applied_once(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)
    gateway = TestModeBilling(session)
    sub = plans.active_subscription(session, org.id, "plan")
    event = gateway.invoice_event("invoice.payment_failed", sub.stripe_subscription_id)

    assert billing.handle_event(session, gateway, event) is True
    sub.status = "active"  # as if something else had moved on meanwhile
    session.add(sub)
    assert billing.handle_event(session, gateway, event) is False
    assert sub.status == "active"


def test_payment_failure_shows_past_due_and_a_paid_invoice_recovers(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)
    gateway = TestModeBilling(session)
    billing.test_mode_fail_payment(session, gateway, user=owner, organization_id=org.id)
    assert billing.overview(session, user=owner, organization_id=org.id).plan_status == "past_due"

    sub = plans.active_subscription(session, org.id, "plan")
    event = gateway.invoice_event("invoice.paid", sub.stripe_subscription_id)
    event["created"] += 1
    billing.handle_event(session, gateway, event)
    assert billing.overview(session, user=owner, organization_id=org.id).plan_status == "active"


def test_subscription_updated_before_checkout_completed_ends_in_the_newest_state(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key="starter"
    )
    checkout = billing.get_test_checkout(session, user=owner, checkout_id=checkout_id_of(url))
    row, completed = gateway.pay(checkout)  # Stripe's state: paid, Starter
    gateway.update_subscription(row.id, price_id=plans.price_id("basic", "monthly"))
    updated = gateway.subscription_event("customer.subscription.updated", row.id)
    stale = gateway.event(
        "customer.subscription.created",
        {**gateway.subscription_object(row), "status": "incomplete"},
    )
    stale["created"] = updated["created"] - 10

    billing.handle_event(session, gateway, updated)  # arrives first
    billing.handle_event(session, gateway, completed)
    billing.handle_event(session, gateway, stale)  # oldest, arrives last
    session.commit()

    assert plans.organization_plan(session, org).key == "basic"
    assert plans.active_subscription(session, org.id, "plan").status == "active"


def test_canceled_subscription_falls_back_to_free(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, plan_key="professional", interval="annual")
    gateway = TestModeBilling(session)
    billing.test_mode_cancel(session, gateway, user=owner, organization_id=org.id, kind="plan")
    assert plans.organization_plan(session, org).key == "free"
    view = billing.overview(session, user=owner, organization_id=org.id)
    assert view.plan_status == "canceled"


def test_plan_change_in_the_portal_arrives_as_an_update(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)
    gateway = TestModeBilling(session)
    time.sleep(1.01)  # a newer event second than the checkout's
    billing.test_mode_change_plan(
        session,
        gateway,
        user=owner,
        organization_id=org.id,
        plan_key="unlimited",
        interval="annual",
    )
    assert plans.organization_plan(session, org).links is None
    assert "billing.subscription_updated" in audit_actions(session, org.id)


def test_checkout_refusals(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    agent = add_member(session, org, Role.AGENT)
    admin = add_member(session, org, Role.ADMIN)
    outsider = make_user(session)
    make_org(session, outsider, "Other Org")

    def start(user, **kw):
        args = {"kind": "plan", "plan_key": "starter", "interval": "monthly", **kw}
        return billing.start_checkout(session, gateway, user=user, organization_id=org.id, **args)

    with pytest.raises(PermissionDenied):
        start(agent)
    with pytest.raises(PermissionDenied):  # Admins manage members, not billing
        start(admin)
    with pytest.raises(NotFound):
        start(outsider)
    with pytest.raises(ValidationFailed):
        start(owner, plan_key="free")
    with pytest.raises(ValidationFailed):
        start(owner, interval="weekly")
    billing_admin = add_member(session, org, Role.BILLING_ADMIN)
    assert start(billing_admin).startswith("/billing/test-checkout/")

    subscribe(session, owner, org)
    with pytest.raises(Conflict):
        start(owner, plan_key="basic")


def test_paying_someone_elses_checkout_is_refused(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key="starter"
    )
    stranger = make_user(session)
    with pytest.raises(NotFound):
        billing.pay_test_checkout(session, gateway, user=stranger, checkout_id=checkout_id_of(url))
    agent = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        billing.pay_test_checkout(session, gateway, user=agent, checkout_id=checkout_id_of(url))
    assert plans.organization_plan(session, org).key == "free"


def test_support_seats_bounds_cost_and_invite_limit(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    add_member(session, org, Role.AGENT)
    subscribe(session, owner, org, kind="support")  # quantity = seats used = 2
    gateway = TestModeBilling(session)

    view = billing.overview(session, user=owner, organization_id=org.id)
    assert (view.support_active, view.seats_purchased, view.seats_used) == (True, 2, 2)
    assert plans.pounds(view.monthly_cost_pence) == "£11.98"
    assert plans.seat_limit(session, org) == 2
    with pytest.raises(NoSeatsAvailable) as refused:
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="x@example.com", role=Role.AGENT
        )
    # the support seats set the limit (not the Free plan's 3), and the message says so
    assert refused.value.message.startswith(
        "No seats available: members are limited by your 2 support seats "
        "(the Free plan alone allows 3)."
    )
    session.rollback()

    with pytest.raises(ValidationFailed) as below:
        billing.change_seats(session, gateway, user=owner, organization_id=org.id, seats_wanted=1)
    assert "cannot go below 2" in below.value.errors["seats"]

    billing.change_seats(session, gateway, user=owner, organization_id=org.id, seats_wanted=3)
    session.commit()
    view = billing.overview(session, user=owner, organization_id=org.id)
    assert (view.seats_purchased, plans.pounds(view.monthly_cost_pence)) == (3, "£17.97")
    assert plans.seat_limit(session, org) == 3
    assert "billing.seats_changed" in audit_actions(session, org.id)


def test_seat_changes_need_billing_rights_and_a_support_subscription(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    with pytest.raises(Conflict):
        billing.change_seats(session, gateway, user=owner, organization_id=org.id, seats_wanted=4)
    subscribe(session, owner, org, kind="support")
    agent = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        billing.change_seats(session, gateway, user=agent, organization_id=org.id, seats_wanted=9)
    outsider = make_user(session)
    with pytest.raises(NotFound):
        billing.change_seats(
            session, gateway, user=outsider, organization_id=org.id, seats_wanted=9
        )
    assert billing.overview(session, user=owner, organization_id=org.id).seats_purchased == 1


def test_prices_are_configuration(monkeypatch):
    from orgportal.config import settings

    assert plans.PLANS["starter"].price_pence("monthly") == 499  # the catalogue's default
    monkeypatch.setattr(settings, "plan_prices_pence", {"starter_monthly": 550})
    assert plans.pounds(plans.PLANS["starter"].price_pence("monthly")) == "£5.50"
    assert plans.PLANS["starter"].price_pence("annual") == 4990


def test_test_mode_billing_never_runs_on_a_public_address(session: Session, monkeypatch):
    from orgportal.adapters.billing import BillingUnavailable, gateway_from_settings
    from orgportal.config import settings

    owner = make_user(session)
    org = make_org(session, owner)
    monkeypatch.setattr(settings, "stripe_secret_key", None)
    monkeypatch.setattr(settings, "public_url", "https://portal.example.com")
    monkeypatch.setattr(settings, "billing_test_mode", False)

    gateway = gateway_from_settings(session)
    with pytest.raises(BillingUnavailable, match="Billing is not configured"):
        billing.start_checkout(
            session, gateway, user=owner, organization_id=org.id, kind="plan",
            plan_key="starter", interval="monthly",
        )  # fmt: skip
    assert billing.overview(session, user=owner, organization_id=org.id).test_mode is False
    with pytest.raises(PermissionDenied, match="not configured"):
        billing.get_test_checkout(session, user=owner, checkout_id="cs_test_x")

    monkeypatch.setattr(settings, "billing_test_mode", True)  # BILLING_TEST_MODE=1
    assert isinstance(gateway_from_settings(session), TestModeBilling)
    subscribe(session, owner, org)
    assert plans.organization_plan(session, org).key == "starter"


# --- support checkout seat count, personal plans (UX polish) ------------------------------


def test_support_checkout_takes_the_seat_count_and_refuses_below_seats_used(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    add_member(session, org, Role.AGENT)  # 2 seats used
    gateway = TestModeBilling(session)

    def start(user=owner, **kw):
        return billing.start_checkout(
            session, gateway, user=user, organization_id=org.id, kind="support", **kw
        )

    with pytest.raises(ValidationFailed) as below:
        start(quantity=1)
    assert "cannot go below 2" in below.value.errors["seats"]
    with pytest.raises(ValidationFailed):
        start(quantity=0)
    with pytest.raises(ValidationFailed):
        start(quantity=billing.MAX_SEATS + 1)
    with pytest.raises(PermissionDenied):
        start(user=add_member(session, org, Role.ADMIN), quantity=5)

    url = start(quantity=6)
    back = billing.pay_test_checkout(session, gateway, user=owner, checkout_id=checkout_id_of(url))
    assert "checkout=success" in back
    session.commit()
    view = billing.overview(session, user=owner, organization_id=org.id)
    assert (view.support_active, view.seats_purchased) == (True, 6)
    assert plans.seat_limit(session, org) == 6  # the chosen count is the member limit


def test_support_checkout_defaults_to_seats_used(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, kind="support")
    assert plans.seat_limit(session, org) == 1


def subscribe_personal(session: Session, user, plan_key="professional", interval="monthly"):
    gateway = TestModeBilling(session)
    url = billing.start_personal_checkout(
        session, gateway, user=user, plan_key=plan_key, interval=interval
    )
    checkout_id = checkout_id_of(url)
    back = billing.pay_test_checkout(session, gateway, user=user, checkout_id=checkout_id)
    assert back.endswith(f"/account/plan?checkout=success&session_id={checkout_id}")
    session.commit()
    return checkout_id


def test_personal_plan_in_test_mode_is_the_users_own_subscription(session: Session):
    from orgportal.services import usage

    user = make_user(session)
    assert billing.effective_plan_source(session, user=user) == "Your plan: Free"
    assert usage.pool_for(session, user=user, organization_id=None).plan.links == 50

    checkout_id = subscribe_personal(session, user)

    rows = session.exec(select(Subscription).where(Subscription.user_id == user.id)).all()
    assert [(r.organization_id, r.kind, r.plan_key, r.status) for r in rows] == [
        (None, "plan", "professional", "active")
    ]
    assert usage.pool_for(session, user=user, organization_id=None).plan.links == 10_000
    assert billing.effective_plan_source(session, user=user) == (
        "Your plan: Professional — your own subscription"
    )
    view = billing.personal_overview(session, user=user)
    assert (view.plan.name, view.status, view.own_active) == ("Professional", "active", True)
    # the return-URL fallback after the event: still one subscription
    again = billing.complete_checkout(
        session, TestModeBilling(session), user=user, checkout_id=checkout_id
    )
    assert again is not None and again.user_id == user.id
    assert len(session.exec(select(Subscription).where(Subscription.user_id == user.id)).all()) == 1
    with pytest.raises(Conflict):
        billing.start_personal_checkout(
            session, TestModeBilling(session), user=user, plan_key="basic", interval="monthly"
        )


def test_personal_plan_activates_through_the_webhook_path_and_cancels(session: Session):
    from orgportal.services import usage

    user = make_user(session)
    gateway = TestModeBilling(session)
    url = billing.start_personal_checkout(
        session, gateway, user=user, plan_key="starter", interval="annual"
    )
    checkout = billing.get_test_checkout(session, user=user, checkout_id=checkout_id_of(url))
    _, event = gateway.pay(checkout)  # what Stripe would POST to the webhook
    assert event["data"]["object"]["client_reference_id"] == f"user-{user.id}"
    assert billing.handle_event(session, gateway, event) is True
    assert billing.handle_event(session, gateway, event) is False
    session.commit()
    assert usage.pool_for(session, user=user, organization_id=None).plan.key == "starter"

    billing.test_mode_personal_change_plan(
        session, gateway, user=user, plan_key="basic", interval="monthly"
    )
    assert usage.pool_for(session, user=user, organization_id=None).plan.key == "basic"
    billing.test_mode_personal_cancel(session, gateway, user=user)
    session.commit()
    assert usage.pool_for(session, user=user, organization_id=None).plan.key == "free"
    assert billing.personal_overview(session, user=user).status == "canceled"


def test_personal_checkout_refusals(session: Session):
    user = make_user(session)
    gateway = TestModeBilling(session)
    with pytest.raises(ValidationFailed):
        billing.start_personal_checkout(
            session, gateway, user=user, plan_key="free", interval="monthly"
        )
    with pytest.raises(ValidationFailed):
        billing.start_personal_checkout(
            session, gateway, user=user, plan_key="basic", interval="weekly"
        )
    url = billing.start_personal_checkout(
        session, gateway, user=user, plan_key="basic", interval="monthly"
    )
    stranger = make_user(session)
    with pytest.raises(NotFound):
        billing.pay_test_checkout(session, gateway, user=stranger, checkout_id=checkout_id_of(url))
    with pytest.raises(NotFound):
        billing.complete_checkout(session, gateway, user=stranger, checkout_id=checkout_id_of(url))
    with pytest.raises(Conflict):
        billing.personal_portal(session, gateway, user=stranger)
    with pytest.raises(Conflict):
        billing.test_mode_personal_cancel(session, gateway, user=user)


def test_effective_plan_source_names_the_organization(session: Session):
    owner = make_user(session)
    org = make_org(session, owner, "Acme")
    member = add_member(session, org, Role.AGENT)
    subscribe(session, owner, org, plan_key="professional")
    assert billing.effective_plan_source(session, user=member) == (
        "Your plan: Professional — from Acme's subscription"
    )
    # a personal plan wins over the organization's (SPEC §6)
    subscribe_personal(session, member, plan_key="starter")
    assert billing.effective_plan_source(session, user=member) == (
        "Your plan: Starter — your own subscription"
    )
    view = billing.personal_overview(session, user=member)
    assert billing.personal_portal(session, TestModeBilling(session), user=member) == (
        "/billing/test-portal?personal=1"
    )
    assert view.own_active


def test_the_overviews_plan_line_says_what_the_billing_page_says(session: Session):
    """`plan_summary` (every overview load) names the plan and its status as `overview` does:
    Free without a subscription, then the plan, then past due after a failed payment."""
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)

    def both(user) -> tuple[billing.PlanSummary, billing.BillingOverview]:
        summary = billing.plan_summary(session, user=user, organization_id=org.id)
        return summary, billing.overview(session, user=user, organization_id=org.id)

    summary, view = both(owner)
    assert (summary.name, summary.status) == ("Free", "") == (view.plan.name, view.plan_status)
    subscribe(session, owner, org)
    billing.test_mode_fail_payment(
        session, TestModeBilling(session), user=owner, organization_id=org.id
    )
    summary, view = both(viewer)  # every member's overview shows it
    assert (summary.name, summary.status) == ("Starter", "past_due")
    assert (summary.name, summary.status) == (view.plan.name, view.plan_status)


def test_the_plan_line_is_refused_outside_the_organization(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)
    stranger = make_user(session)
    with pytest.raises(NotFound):
        billing.plan_summary(session, user=stranger, organization_id=org.id)
