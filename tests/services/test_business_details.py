"""Business details show the VAT number as entered, with its country prefix:
python-stdnum still checks it, but its compact form ("980780684") is not what people wrote."""

import dataclasses

import pytest
from sqlmodel import Session

from orgportal.models import Organization
from orgportal.services import organizations
from orgportal.services.business_details import BusinessDetails, validate, vat_as_entered
from orgportal.services.errors import ValidationFailed
from tests.factories import make_org, make_user


@pytest.mark.parametrize(
    ("country", "entered", "kept"),
    [
        ("GB", "GB980780684", "GB980780684"),
        ("GB", "gb 980 7806 84", "GB 980 7806 84"),
        ("GB", "980 7806 84", "GB 980 7806 84"),  # the prefix added
        ("GB", "980780684", "GB980780684"),
        ("GR", "094259216", "EL094259216"),  # Greece's VAT prefix is EL
        ("GR", "EL 094259216", "EL 094259216"),
        ("AT", "U13585627", "ATU13585627"),
        ("CH", "CHE-107.787.577 MWST", "CHE-107.787.577 MWST"),  # no EU prefix to add
        ("DE", "  DE  136695976 ", "DE 136695976"),  # single spaces
    ],
)
def test_a_valid_vat_number_is_kept_as_entered_with_its_prefix(country, entered, kept):
    details = validate(BusinessDetails(country=country, vat_number=entered))
    assert details.vat_number == kept


def test_an_invalid_vat_number_is_still_refused():
    with pytest.raises(ValidationFailed) as refused:
        validate(BusinessDetails(country="GR", vat_number="EL 094259217"))
    assert refused.value.errors == {"vat_number": "This is not a valid GR VAT number."}


def test_numbers_saved_without_their_prefix_are_shown_with_it():
    assert vat_as_entered("980780684", "GB") == "GB980780684"
    assert vat_as_entered("", "GB") == ""
    assert vat_as_entered("83914571673", "AU") == "83914571673"


def test_saved_as_entered(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    details = dataclasses.replace(BusinessDetails(), country="GB", vat_number="gb 980 7806 84")
    organizations.update_business_details(
        session, user=owner, organization_id=org.id, details=details
    )
    session.commit()
    assert session.get(Organization, org.id).vat_number == "GB 980 7806 84"
