"""Organizations: create, edit, business details, settings, delete, and their refusals."""

import io
import re
from functools import partial

import pytest
from PIL import Image
from sqlmodel import Session, select

from orgportal import db
from orgportal.adapters.billing import TestModeBilling
from orgportal.adapters.live import InProcessBus
from orgportal.config import settings
from orgportal.models import (
    AuditEvent,
    Membership,
    Organization,
    Role,
    Subscription,
    TestModeSubscription,
)
from orgportal.services import audit, billing, files, logos, organizations
from orgportal.services.business_details import BusinessDetails
from orgportal.services.errors import NotFound, PermissionDenied, ValidationFailed
from orgportal.services.organizations import OrganizationSettings
from tests.factories import add_member, make_org, make_user


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
        ("Acme\r\nBcc: all@evil.test", "", "", "name"),
        ("Acme", "d" * 501, "", "description"),
        ("Acme", "", "http://example.com/logo.png", "logo_url"),
        ("Acme", "", "javascript:alert(1)", "logo_url"),
        ("Acme", "", "/api/logos/../auth/session?ticket=x", "logo_url"),
        ("Acme", "", "/api/logos/x.png?y", "logo_url"),
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
    # the VAT number as entered, its country prefix kept
    assert fresh.phone == "+44 20 7946 0958" and fresh.vat_number == "GB980780684"
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


def delete_org(session, owner, org) -> None:
    organizations.delete_organization(
        session,
        user=owner,
        organization_id=org.id,
        confirm_name=org.name,
        gateway=TestModeBilling(session),
    )


def test_a_new_organization_never_sees_a_deleted_ones_audit_log(session):
    """SECURITY: on SQLite the newest organization's id was freed by its deletion, and the
    next organization inherited its audit trail (audit events have no foreign key)."""
    owner = make_user(session)
    first = make_org(session, owner, "Deleted Co")
    organizations.update_profile(
        session, user=owner, organization_id=first.id, name="Deleted Co", description="secret",
        logo_url="",
    )  # fmt: skip
    delete_org(session, owner, first)
    session.commit()
    second = make_org(session, owner, "New Co")
    assert second.id != first.id
    events = audit.list_events(session, user=owner, organization_id=second.id)
    assert [e.summary for e in events] == ["Created organization New Co"]


def test_audit_log_hides_events_older_than_the_organization(session):
    """Defence in depth: even an organization that got a freed id sees none of the events
    written before it existed."""
    owner = make_user(session)
    first = make_org(session, owner, "Deleted Co")
    delete_org(session, owner, first)
    session.commit()
    reused = Organization(id=first.id, name="Reused", slug="reused-id")
    session.add(reused)
    session.flush()
    session.add(Membership(organization_id=first.id, user_id=owner.id, role=Role.OWNER))
    session.commit()
    assert audit.list_events(session, user=owner, organization_id=first.id) == []
    with pytest.raises(NotFound):
        audit.list_events(session, user=owner, organization_id=first.id + 1)


class Abort(Exception):
    """Raised inside a unit of work to force its rollback."""


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def data_dir(engine, monkeypatch, tmp_path):
    """The app's data directory (files, logos) in tmp_path; the live bus is silenced."""
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(db, "bus", lambda: InProcessBus())
    return tmp_path


def org_with_bytes(engine, name: str = "Doomed"):
    """An organization with an uploaded logo and a file; its owner has a personal file too."""
    with db.unit_of_work(engine) as session:
        owner = make_user(session)
        logo = logos.store_upload(png())
        org = organizations.create_organization(session, user=owner, name=name, logo_url=logo)
        session.flush()
        upload = partial(files.upload_file, session, user=owner)
        stored = upload(organization_id=org.id, name="org.txt", data=b"org bytes")
        personal = upload(organization_id=None, name="mine.txt", data=b"personal bytes")
    paths = [
        settings.files_dir / stored.storage_key,
        settings.data_dir / "logos" / logo.removeprefix(logos.URL_PREFIX),
    ]
    return owner, org, paths, settings.files_dir / personal.storage_key


def delete_in_unit_of_work(engine, owner, org, *, abort: bool = False) -> None:
    """Like the organization page does it: one unit of work around the service."""
    with db.unit_of_work(engine) as session:
        delete_org(session, owner, org)
        if abort:
            raise Abort


def test_deleting_an_organization_removes_its_files_and_logo_after_commit(engine, data_dir):
    """SECURITY: a deleted organization's bytes stayed on disk."""
    owner, org, paths, personal = org_with_bytes(engine)
    assert all(path.is_file() for path in paths)
    delete_in_unit_of_work(engine, owner, org)
    assert [path.exists() for path in paths] == [False, False]
    assert personal.is_file()


def test_a_rolled_back_deletion_keeps_every_byte(engine, data_dir):
    owner, org, paths, personal = org_with_bytes(engine)
    with pytest.raises(Abort):
        delete_in_unit_of_work(engine, owner, org, abort=True)
    assert all(path.is_file() for path in [*paths, personal])
    with Session(engine) as session:
        assert session.get(Organization, org.id) is not None


def test_a_logo_another_organization_still_shows_is_kept(engine, data_dir):
    owner, org, (_, logo), _ = org_with_bytes(engine)
    with db.unit_of_work(engine) as session:
        organizations.create_organization(
            session, user=owner, name="Sister Co", logo_url=org.logo_url
        )
    delete_in_unit_of_work(engine, owner, org)
    assert logo.is_file()
