"""Every refusal in the product's own words. A toast or an API `detail`
never shows a field key ("member: Choose …"), and an email address is refused with our
reason, never email-validator's ("The part after the @-sign is not valid …")."""

import pytest
from sqlmodel import Session

from orgportal.models import Role
from orgportal.services import departments, invitations, links, tickets
from orgportal.services.errors import ValidationFailed
from orgportal.services.validation import FieldError, normalize_email
from tests.factories import add_member, make_org, make_user
from tests.services.test_tickets import subscribe_support

# Phrases of email-validator's own messages: none may reach a person.
LIBRARY_WORDING = ("@-sign", "special-use", "It should have", "is not valid.", "SPACE")

EMAILS = {
    "": "Enter an email address like name@example.com.",
    "ada": "An email address needs an @, like name@example.com.",
    "ada@@example.com": "An email address has only one @, like name@example.com.",
    "@example.com": "Add the name before the @, like name@example.com.",
    "ada@": "Add the domain after the @, like name@example.com.",
    "ada@example": "The part after the @ needs a dot, like name@example.com.",
    "ada lovelace@example.com": "An email address cannot contain spaces.",
    "ada..l@example.com": "Check the dots: an email address cannot start or end with one, "
    "or have two in a row.",
    "ada@example.com.": "Check the dots: an email address cannot start or end with one, "
    "or have two in a row.",
    "ada@x.test": "Use an email address on a real domain, like name@example.com.",
    "ada@example.123": "Use an email address on a real domain, like name@example.com.",
    "ada@exa_mple.com": "The part after the @ has a character a domain cannot have; use "
    "letters, digits, dots and hyphens, like example.com.",
    "a(da@example.com": "The part before the @ has a character an email address cannot "
    "have; letters, digits and . _ - + are fine.",
    "ada@" + "x" * 300 + ".com": "This email address is too long.",
}


@pytest.mark.parametrize(("raw", "message"), EMAILS.items())
def test_an_email_address_is_refused_in_our_words(raw: str, message: str):
    with pytest.raises(FieldError) as refused:
        normalize_email(raw)
    assert str(refused.value) == message
    assert not any(phrase in str(refused.value) for phrase in LIBRARY_WORDING)


def test_a_valid_email_address_is_trimmed_and_lower_cased():
    assert normalize_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"


def test_validation_failed_keeps_fields_for_the_page_and_says_them_without_keys():
    refused = ValidationFailed({"member": "Choose a member of this organization."})
    assert refused.errors == {"member": "Choose a member of this organization."}
    assert refused.message == "Choose a member of this organization."
    two = ValidationFailed({"target_url": "Enter a website.", "slug": "Use 3–64 letters."})
    assert two.message == "Enter a website. Use 3–64 letters."
    assert ValidationFailed({"a": "Same.", "b": "Same."}).message == "Same."


def test_a_department_assignment_of_a_stranger_says_so_without_a_field_key(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    with pytest.raises(ValidationFailed) as refused:
        departments.assign_member_by_email(
            session,
            user=owner,
            organization_id=org.id,
            department_id=sales.id,
            email="nobody@example.com",
        )
    assert refused.value.errors == {"member": "Choose a member of this organization."}
    assert refused.value.message == "Choose a member of this organization."


def test_services_refuse_bad_email_addresses_in_our_words(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as invite:
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="ada@example", role="agent"
        )
    assert invite.value.errors == {
        "email": "The part after the @ needs a dot, like name@example.com."
    }
    with pytest.raises(ValidationFailed) as ticket:
        tickets.validate_submission(
            {"name": "Ada", "email": "ada@x.test", "subject": "Hi", "message": "Hello"}
        )
    assert ticket.value.message == "Use an email address on a real domain, like name@example.com."


def test_no_refusal_of_a_link_form_names_its_fields(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    with pytest.raises(ValidationFailed) as refused:
        links.create_link(
            session, user=agent, organization_id=org.id, target_url="ftp://x", slug="A!"
        )
    assert set(refused.value.errors) == {"target_url", "slug"}
    assert "target_url" not in refused.value.message and "slug:" not in refused.value.message
