"""An organization's purpose and contact address (seed 003's "Document Organization
Purpose" settings): Owners and Admins set them, checked before anything changes."""

import pytest
from sqlmodel import Session

from orgportal.models import Organization, Role
from orgportal.services import organization_notes
from orgportal.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.factories import add_member, audit_actions, make_org, make_user


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_and_admin_set_and_clear_the_notes(session: Session, role):
    owner = make_user(session)
    org = make_org(session, owner)
    who = owner if role == Role.OWNER else add_member(session, org, role)
    organization_notes.update_notes(
        session, user=who, organization_id=org.id, purpose=" production ",
        contact_email="Marketing-Team@Acme.com",
    )  # fmt: skip
    session.commit()
    saved = session.get(Organization, org.id)
    assert (saved.purpose, saved.contact_email) == ("production", "marketing-team@acme.com")
    assert audit_actions(session, org.id)[-1] == "organization.settings_updated"
    organization_notes.update_notes(session, user=who, organization_id=org.id, purpose="")
    assert (saved.purpose, saved.contact_email) == ("", "marketing-team@acme.com")


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_other_roles_cannot(session: Session, role):
    org = make_org(session, make_user(session))
    member = add_member(session, org, role)
    with pytest.raises(PermissionDenied):
        organization_notes.update_notes(session, user=member, organization_id=org.id, purpose="x")
    with pytest.raises(NotFound):
        organization_notes.update_notes(
            session, user=make_user(session), organization_id=org.id, purpose="x"
        )


def test_bad_notes_change_nothing(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as refused:
        organization_notes.update_notes(
            session, user=owner, organization_id=org.id, purpose="two\nlines",
            contact_email="not an address",
        )  # fmt: skip
    assert set(refused.value.errors) == {"purpose", "owner"}
    session.rollback()
    saved = session.get(Organization, org.id)
    assert (saved.purpose, saved.contact_email) == ("", "")
