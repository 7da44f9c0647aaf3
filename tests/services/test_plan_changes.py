"""The plan comparison and what a plan change does (SPEC §6): the pricing table comes from
the plan data, the summary from the plan data and the organization's usage, and the switch
itself goes through the same activation code as Stripe's events."""

import pytest
from sqlmodel import Session

from orgportal.adapters.billing import TestModeBilling
from orgportal.config import settings
from orgportal.models import CustomDomain, OrganizationSecurity, Role
from orgportal.services import billing, plan_changes, plans
from orgportal.services.errors import Conflict, PermissionDenied, ValidationFailed
from orgportal.services.plan_changes import Standing, summarize
from tests.factories import add_member, audit_actions, bulk_links, make_org, make_user
from tests.services.test_billing import subscribe


def standing(plan_key: str = "free", interval: str = "", **usage) -> Standing:
    values = {
        "links": 0,
        "storage_bytes": 0,
        "seats_used": 1,
        "support_seats": None,
        "domains": 0,
        "security_enforced": False,
        **usage,
    }
    return Standing(plan=plans.PLANS[plan_key], interval=interval, **values)


# --- the pricing table ------------------------------------------------------------------------


def test_the_pricing_table_is_the_plan_data_with_the_annual_saving():
    table = {row.label: row.values for row in plan_changes.pricing_table()}
    assert table["Links"] == ("50", "500", "2,000", "10,000", "Unlimited")
    assert table["Storage"] == ("100 MB", "1 GB", "5 GB", "25 GB", "Unlimited")
    assert table["Members"] == ("3", "5", "10", "25", "Unlimited")
    assert table["Custom domains"] == ("—", "1", "2", "5", "Unlimited")
    assert table["Require two-factor sign-in, IP allowlist"] == (
        "—",
        "—",
        "—",
        "Included",
        "Included",
    )
    monthly, annual = (
        table["Price per month, billed monthly"],
        table["Price per year, billed annually"],
    )
    assert monthly == ("£0", "£4.99", "£9.99", "£19.99", "£49.99")
    assert annual[0] == "£0"
    assert annual[3] == "£199.90 (save £39.98)"  # 12 × £19.99 − £199.90
    assert table["Company domains, single sign-on (SAML/OIDC), SCIM"] == (
        "—",
        "—",
        "—",
        "—",
        "Included",
    )
    assert all(len(values) == len(plans.ALL) for values in table.values())


def test_the_pricing_table_follows_configured_prices(monkeypatch):
    monkeypatch.setattr(settings, "plan_prices_pence", {"starter_annual": 5988})
    monkeypatch.setattr(settings, "seat_price_pence", 799)
    table = {row.label: row.values for row in plan_changes.pricing_table()}
    assert table["Price per year, billed annually"][1] == "£59.88"  # no saving: none claimed
    assert "Support desk: ticket prefix, departments (add-on, £7.99 per seat a month)" in table


# --- the summary ---------------------------------------------------------------------------------


def test_an_upgrade_from_free_lists_the_new_limits_and_the_charge():
    change = summarize(standing(), "professional", "monthly")
    assert (change.kind, change.headline) == ("upgrade", "Upgrading to Professional")
    assert change.changes == (
        "Links: 50 → 10,000",
        "Storage: 100 MB → 25 GB",
        "Members: 3 → 25",
        "Custom domains: 0 → 5",
        "Require two-factor sign-in, IP allowlist: included",
    )
    assert change.stops == ()
    assert change.billing == "Billed £19.99 monthly."


def test_moving_to_or_from_unlimited_says_company_domains_and_sso_come_or_go():
    up = summarize(standing("professional", "monthly"), "unlimited", "monthly")
    assert "Company domains, single sign-on (SAML/OIDC), SCIM: included" in up.changes
    down = summarize(standing("unlimited", "monthly"), "professional", "monthly")
    assert "Company domains, single sign-on (SAML/OIDC), SCIM: not included" in down.changes


def test_annual_billing_says_the_saving_and_a_subscribed_change_says_proration():
    change = summarize(standing("starter", "monthly"), "basic", "annual")
    assert change.billing == (
        "Billed £99.90 annually, saving £19.98 a year over monthly billing from now on; the "
        "difference is prorated on the next invoice."
    )


def test_a_downgrade_says_what_is_left_over_the_new_limits():
    now = standing(
        "professional",
        "monthly",
        links=1_200,
        storage_bytes=3 * plans.GB,
        seats_used=8,
        domains=3,
        security_enforced=True,
    )
    change = summarize(now, "starter", "monthly")
    assert (change.kind, change.headline) == ("downgrade", "Downgrading to Starter")
    assert "Links: 10,000 → 500" in change.changes
    assert "Require two-factor sign-in, IP allowlist: not included" in change.changes
    assert change.stops == (
        "You have 1,200 links, more than Starter's 500: they keep working, but new links are "
        "refused until you are under the limit.",
        "You use 3 GB of storage, more than Starter's 1 GB: your files stay, but uploads are "
        "refused until you are under the limit.",
        "You have 8 members and pending invites together, more than Starter's 5: nobody is "
        "removed, but no one new can be invited until you are under the limit.",
        "You have 3 custom domains, more than Starter's 1: no domain can be added until you "
        "are under the limit.",
        "Require two-factor sign-in and the IP allowlist stop being enforced (your settings "
        "are kept for when you upgrade again).",
    )


def test_leaving_unlimited_says_scim_provisioning_stops_when_connected():
    connected = summarize(
        standing("unlimited", "monthly", scim_connected=True), "professional", "monthly"
    )
    assert f"{plan_changes.IDENTITY_LABEL}: not included" in connected.changes
    assert connected.stops == (
        "SCIM provisioning stops: your identity provider's token is refused until you return "
        "to a plan with it (members stay as they are).",
    )
    unused = summarize(standing("unlimited", "monthly"), "professional", "monthly")
    assert unused.stops == ()
    upgrade = summarize(standing(), "unlimited", "monthly")
    assert f"{plan_changes.IDENTITY_LABEL}: included" in upgrade.changes


def test_a_downgrade_within_the_limits_leaves_nothing_over():
    change = summarize(standing("basic", "monthly", links=10, seats_used=2), "starter", "annual")
    assert change.kind == "downgrade" and change.stops == ()


def test_support_seats_keep_limiting_members_whatever_the_plan():
    now = standing("starter", "monthly", seats_used=6, support_seats=6)
    up = summarize(now, "professional", "monthly")
    assert "Members: still limited by your 6 support seats" in up.changes
    assert not any(line.startswith("Members: 5") for line in up.changes)
    assert summarize(now, "starter", "annual").stops == ()


def test_the_current_plan_and_an_interval_switch():
    now = standing("basic", "monthly")
    current = summarize(now, "basic", "monthly")
    assert (current.kind, current.changes, current.billing) == ("current", (), "")
    switch = summarize(now, "basic", "annual")
    assert (switch.kind, switch.headline) == ("interval", "Switching Basic to annual billing")
    assert switch.changes == ()


def test_the_summaries_read_the_organizations_usage(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, plan_key="professional")
    bulk_links(session, owner=owner, organization_id=org.id, count=600, prefix="l")
    for n in range(3):
        session.add(CustomDomain(organization_id=org.id, domain=f"d{n}.acme.com", token="t"))
    session.commit()

    now = plan_changes.standing_to_buy(session, user=owner, organization_id=org.id)

    starter = summarize(now, "starter", "monthly")
    assert starter.stops[0].startswith("You have 600 links, more than Starter's 500")
    assert any("3 custom domains" in stop for stop in starter.stops)
    assert not any("stop being enforced" in stop for stop in starter.stops)

    # the Security settings on: a downgrade says they stop being enforced
    session.add(OrganizationSecurity(organization_id=org.id, require_two_factor=True))
    session.commit()
    now = plan_changes.standing(session, org)
    assert now.security_enforced and now.links == 600 and now.domains == 3
    assert any("stop being enforced" in s for s in summarize(now, "starter", "monthly").stops)


def test_only_who_may_buy_gets_the_summaries(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    billing_admin = add_member(session, org, Role.BILLING_ADMIN)
    now = plan_changes.standing_to_buy(session, user=billing_admin, organization_id=org.id)
    assert now.plan.key == "free"
    for role in (Role.ADMIN, Role.AGENT, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            plan_changes.standing_to_buy(
                session, user=add_member(session, org, role), organization_id=org.id
            )


# --- changing plan ----------------------------------------------------------------------------


def test_change_plan_moves_the_subscription_and_the_limits(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, plan_key="starter")
    gateway = TestModeBilling(session)

    billing.change_plan(
        session,
        gateway,
        user=owner,
        organization_id=org.id,
        plan_key="professional",
        interval="annual",
    )
    session.commit()

    assert plans.organization_plan(session, org).key == "professional"
    view = billing.overview(session, user=owner, organization_id=org.id)
    assert (view.plan_status, view.plan_interval) == ("active", "annual")
    assert audit_actions(session, org.id)[-1] == "billing.subscription_updated"


def test_change_plan_refusals_change_nothing(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)

    def change(user=owner, plan_key="basic", interval="monthly"):
        billing.change_plan(
            session,
            gateway,
            user=user,
            organization_id=org.id,
            plan_key=plan_key,
            interval=interval,
        )

    with pytest.raises(Conflict, match="subscribe first"):
        change()
    subscribe(session, owner, org, plan_key="starter")
    with pytest.raises(Conflict, match="already the organization's plan"):
        change(plan_key="starter")
    with pytest.raises(ValidationFailed):
        change(plan_key="free")
    with pytest.raises(ValidationFailed):
        change(interval="weekly")
    with pytest.raises(PermissionDenied):
        change(user=add_member(session, org, Role.ADMIN))
    session.rollback()
    assert plans.organization_plan(session, org).key == "starter"
