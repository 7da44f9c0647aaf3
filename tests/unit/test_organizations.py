"""Organizations: create, edit, business details, settings, delete, and their refusals."""

import re

import pytest
from sqlmodel import select

from orgportal.adapters.billing import TestModeBilling
from orgportal.models import (
    AuditEvent,
    Membership,
    Organization,
    Role,
    Subscription,
    TestModeSubscription,
)
from orgportal.services import audit, billing, organizations
from orgportal.services.business_details import BusinessDetails
from orgportal.services.errors import NotFound, PermissionDenied, ValidationFailed
from orgportal.services.organizations import OrganizationSettings
from tests.unit.factories import add_member, make_org, make_user


def actions(session, org_id):
    return [
        e.action
        for e in session.exec(
            select(AuditEvent).where(AuditEvent.organization_id == org_id).order_by(AuditEvent.id)
        )
    ]


def test_create_makes_creator_owner_with_random_slug_and_audit(session):
    owner = make_user(session)
    org = make_org(session, owner, "Acme Marketing Team")
    assert re.fullmatch(r"acme-marketing-team-[a-z0-9]{6}", org.slug)
    member = session.exec(select(Membership)).one()
    assert (member.user_id, member.role) == (owner.id, Role.OWNER)
    assert actions(session, org.id) == ["organization.created"]
    assert make_org(session, owner, "Acme Marketing Team").slug != org.slug


@pytest.mark.parametrize(
    ("name", "description", "logo", "field"),
    [
        ("A", "", "", "name"),
        ("x" * 81, "", "", "name"),
        ("Acme", "d" * 501, "", "description"),
        ("Acme", "", "http://example.com/logo.png", "logo_url"),
        ("Acme", "", "javascript:alert(1)", "logo_url"),
    ],
)
def test_create_refuses_invalid_fields(session, name, description, logo, field):
    owner = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        organizations.create_organization(
            session, user=owner, name=name, description=description, logo_url=logo
        )
    assert field in err.value.errors
    session.rollback()
    assert session.exec(select(Organization)).all() == []


def test_rename_keeps_slug_and_is_audited(session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    organizations.update_profile(
        session,
        user=admin,
        organization_id=org.id,
        name="Acme Global",
        description="New",
        logo_url="https://example.com/l.png",
    )
    session.commit()
    fresh = session.get(Organization, org.id)
    assert (fresh.name, fresh.slug) == ("Acme Global", org.slug)
    assert actions(session, org.id)[-1] == "organization.updated"


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owner_and_admin_may_edit(session, role):
    org = make_org(session, make_user(session))
    member = add_member(session, org, role)
    with pytest.raises(PermissionDenied):
        organizations.update_profile(
            session,
            user=member,
            organization_id=org.id,
            name="Hijacked",
            description="",
            logo_url="",
        )
    with pytest.raises(PermissionDenied):
        organizations.update_business_details(
            session, user=member, organization_id=org.id, details=BusinessDetails(city="X")
        )
    with pytest.raises(PermissionDenied):
        organizations.update_settings(
            session,
            user=member,
            organization_id=org.id,
            new=OrganizationSettings(allow_members_to_invite=True),
        )


def test_other_organizations_admin_gets_not_found(session):
    org = make_org(session, make_user(session))
    other = make_org(session, make_user(session), "Other")
    other_admin = add_member(session, other, Role.ADMIN)
    with pytest.raises(NotFound):
        organizations.get_organization(session, user=other_admin, organization_id=org.id)
    with pytest.raises(NotFound):
        organizations.update_profile(
            session,
            user=other_admin,
            organization_id=org.id,
            name="Hijacked",
            description="",
            logo_url="",
        )
    with pytest.raises(NotFound):
        audit.list_events(session, user=other_admin, organization_id=org.id)


VALID = BusinessDetails(
    address="1 High Street",
    city="London",
    postcode="SW1A 1AA",
    country="GB",
    phone="+44 20 7946 0958",
    email="Billing@Acme.example",
    website="https://acme.example",
    vat_number="GB980780684",
    registration_number="01234567",
)


def test_valid_business_details_are_normalized_and_saved(session):
    owner = make_user(session)
    org = make_org(session, owner)
    organizations.update_business_details(
        session, user=owner, organization_id=org.id, details=VALID
    )
    session.commit()
    fresh = session.get(Organization, org.id)
    assert fresh.country == "GB" and fresh.email == "billing@acme.example"
    assert fresh.phone == "+44 20 7946 0958" and fresh.vat_number == "980780684"
    assert actions(session, org.id)[-1] == "organization.business_details_updated"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"website": "ftp://acme.example"}, "website"),
        ({"website": "acme"}, "website"),
        ({"country": "XX"}, "country"),
        ({"phone": "12345"}, "phone"),
        ({"vat_number": "GB123"}, "vat_number"),
        ({"country": "DE", "vat_number": "DE000000000"}, "vat_number"),
        ({"country": "", "vat_number": "GB980780684"}, "vat_number"),
    ],
)
def test_invalid_business_details_name_the_field_and_save_nothing(session, change, field):
    owner = make_user(session)
    org = make_org(session, owner)
    details = BusinessDetails(**{**VALID.as_dict(), **change})
    with pytest.raises(ValidationFailed) as err:
        organizations.update_business_details(
            session, user=owner, organization_id=org.id, details=details
        )
    assert field in err.value.errors
    session.rollback()
    assert session.get(Organization, org.id).city == ""


def test_settings_defaults_validation_and_update(session):
    owner = make_user(session)
    org = make_org(session, owner)
    assert (
        org.allow_members_to_invite,
        org.require_approval_for_links,
        org.default_attribution_window,
    ) == (False, False, 168)
    with pytest.raises(ValidationFailed):
        organizations.update_settings(
            session,
            user=owner,
            organization_id=org.id,
            new=OrganizationSettings(default_attribution_window=0),
        )
    organizations.update_settings(
        session, user=owner, organization_id=org.id, new=OrganizationSettings(True, True, 24)
    )
    session.commit()
    assert session.get(Organization, org.id).default_attribution_window == 24


def test_delete_needs_owner_and_exact_name_and_keeps_the_audit_trail(session):
    owner = make_user(session)
    org = make_org(session, owner, "Acme")
    admin = add_member(session, org, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        organizations.delete_organization(
            session,
            user=admin,
            organization_id=org.id,
            confirm_name="Acme",
            gateway=TestModeBilling(session),
        )
    with pytest.raises(ValidationFailed):
        organizations.delete_organization(
            session,
            user=owner,
            organization_id=org.id,
            confirm_name="acme",
            gateway=TestModeBilling(session),
        )
    session.rollback()
    organizations.delete_organization(
        session,
        user=owner,
        organization_id=org.id,
        confirm_name="Acme",
        gateway=TestModeBilling(session),
    )
    session.commit()
    assert session.get(Organization, org.id) is None
    assert session.exec(select(Membership)).all() == []
    assert actions(session, org.id)[-1] == "organization.deleted"


def test_delete_cancels_the_subscriptions_first(session):
    owner = make_user(session)
    org = make_org(session, owner, "Paying Co")
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key="starter"
    )
    billing.pay_test_checkout(session, gateway, user=owner, checkout_id=url.rsplit("/", 1)[1])
    session.commit()
    stripe_id = billing.plans.active_subscription(session, org.id, "plan").stripe_subscription_id
    organizations.delete_organization(
        session, user=owner, organization_id=org.id, confirm_name="Paying Co", gateway=gateway
    )
    session.commit()
    assert session.get(TestModeSubscription, stripe_id).status == "canceled"
    assert session.exec(select(Subscription)).all() == []


def test_audit_log_is_for_owner_and_admin_and_append_only(session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    admin = add_member(session, org, Role.ADMIN)
    assert [e.action for e in audit.list_events(session, user=admin, organization_id=org.id)] == [
        "organization.created"
    ]
    with pytest.raises(PermissionDenied):
        audit.list_events(session, user=viewer, organization_id=org.id)
    event = session.exec(select(AuditEvent)).first()
    event.summary = "rewritten"
    session.add(event)
    with pytest.raises(Exception, match="never changed"):
        session.commit()
