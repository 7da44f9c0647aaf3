"""Single sign-on with SAML 2.0 (SPEC §16) against a real IdP built on pysaml2's IdP side
(tests/saml_idp.py, signing with a key made in the test): the full sign-in, and the
refusals: an unsigned assertion, another audience, an expired assertion, a replayed one, a
wrapped signature, an unsolicited response; the browser binding of the second step; the
metadata checks of the set-up."""

import base64
import re

import pytest
from sqlmodel import Session, select

from orgportal.models import CompanyDomain, DomainStatus, Membership, SsoConnection, Subscription
from orgportal.models.base import utcnow
from orgportal.services import accounts, sso, sso_saml
from orgportal.services.errors import Conflict, ValidationFailed
from tests.factories import BROWSER, audit_actions, make_org, make_user
from tests.saml_idp import SamlIdp, SamlUser


@pytest.fixture(scope="module")
def running_idp():
    idp = SamlIdp().start()
    yield idp
    idp.stop()


@pytest.fixture
def idp(running_idp):
    running_idp.fault = ""
    running_idp.user = SamlUser(email="ada@acme.com")
    running_idp.sp_metadata.clear()
    return running_idp


@pytest.fixture
def private_idp(monkeypatch):
    """The tests' IdPs listen on 127.0.0.1 over http (SSO_ALLOW_PRIVATE_IDP=1)."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "sso_allow_private_idp", True)


@pytest.fixture
def team(session, secret_key, private_idp):
    owner = make_user(session, "owner@acme.com")
    org = make_org(session, owner, "Acme")
    session.add(
        Subscription(
            organization_id=org.id, kind="plan", plan_key="unlimited", status="active",
            stripe_subscription_id=f"sub_{org.id}",
        )
    )  # fmt: skip
    session.add(
        CompanyDomain(
            organization_id=org.id, domain="acme.com", token="t" * 32,
            status=DomainStatus.VERIFIED, verified_at=utcnow(),
        )
    )  # fmt: skip
    session.commit()
    return owner, org


@pytest.fixture
def connected(session, team, idp):
    owner, org = team
    sso.save_saml(session, user=owner, organization_id=org.id, metadata_xml=idp.metadata())
    session.commit()
    idp.trust_sp(sso.sp_metadata(session, org.id))
    return owner, org


def start(session: Session, email="ada@acme.com", browser=BROWSER) -> str:
    url = sso.start_sign_in(session, email=email, browser=browser)
    session.commit()
    return url


def post_back(session: Session, org, idp: SamlIdp, url: str, *, response: str | None = None) -> str:
    acs_url, saml_response, relay_state = idp.respond(url)
    assert acs_url.endswith(f"/api/sso/saml/{org.id}/acs")
    code = sso.accept_saml(
        session, organization_id=org.id, saml_response=response or saml_response,
        relay_state=relay_state,
    )  # fmt: skip
    session.commit()
    return code


def test_full_sign_in_with_a_signed_assertion(session, connected, idp):
    owner, org = connected
    url = start(session)
    assert url.startswith(f"{idp.base}/sso/redirect?SAMLRequest=")
    code = post_back(session, org, idp, url)
    finished = sso.finish_saml(session, code=code, browser=BROWSER)
    session.commit()
    person = accounts.find_user(session, "ada@acme.com")
    assert person is not None and person.email_confirmed_at is not None
    assert (person.first_name, person.last_name) == ("Ada", "Example")
    assert session.exec(
        select(Membership).where(
            Membership.user_id == person.id, Membership.organization_id == org.id
        )
    ).one()
    raw, user_session = accounts.open_session(session, finished.ticket, browser=BROWSER)
    assert user_session.user_id == person.id
    assert {"sso.account_created", "sso.signed_in", "member.joined"} <= set(
        audit_actions(session, org.id)
    )


def test_the_finish_step_is_bound_to_the_browser_and_single_use(session, connected, idp):
    owner, org = connected
    code = post_back(session, org, idp, start(session))
    with pytest.raises(sso.SsoRefused, match="another browser"):
        sso.finish_saml(session, code=code, browser="another-browser")
    session.rollback()
    assert sso.finish_saml(session, code=code, browser=BROWSER).ticket
    session.commit()
    with pytest.raises(sso.SsoRefused, match="not valid or was already used"):
        sso.finish_saml(session, code=code, browser=BROWSER)


def test_an_unsigned_assertion_is_refused(session, connected, idp):
    owner, org = connected
    idp.fault = "unsigned"
    with pytest.raises(sso.SsoRefused, match="not signed"):
        post_back(session, org, idp, start(session))
    session.rollback()
    assert accounts.find_user(session, "ada@acme.com") is None


def test_an_assertion_for_another_audience_is_refused(session, connected, idp):
    owner, org = connected
    idp.fault = "wrong_audience"
    with pytest.raises(sso.SsoRefused, match="audience"):
        post_back(session, org, idp, start(session))


def test_an_expired_assertion_is_refused(session, connected, idp):
    owner, org = connected
    idp.fault = "expired"
    with pytest.raises(sso.SsoRefused, match="expired|too old|NotOnOrAfter"):
        post_back(session, org, idp, start(session))


def test_a_replayed_assertion_is_refused(session, connected, idp):
    owner, org = connected
    url = start(session)
    acs_url, saml_response, relay_state = idp.respond(url)
    sso.accept_saml(
        session, organization_id=org.id, saml_response=saml_response, relay_state=relay_state
    )
    session.commit()
    with pytest.raises(sso.SsoRefused, match="already used"):
        sso.accept_saml(
            session, organization_id=org.id, saml_response=saml_response, relay_state=relay_state
        )
    session.rollback()
    # the same assertion answering a new sign-in of the same browser: refused too
    other_url = start(session)
    _, _, other_relay = idp.respond(other_url)
    with pytest.raises(sso.SsoRefused):
        sso.accept_saml(
            session, organization_id=org.id, saml_response=saml_response, relay_state=other_relay
        )


def _wrapped(saml_response: str, evil_email: str) -> str:
    """XML signature wrapping: a forged, unsigned assertion for `evil_email` put first in the
    response, the genuine signed one kept (so its signature still verifies)."""
    xml = base64.b64decode(saml_response).decode()
    match = re.search(r"<(\w+:)?Assertion\b.*?</(\w+:)?Assertion>", xml, re.S)
    assert match
    genuine = match.group(0)
    forged = re.sub(r' ID="[^"]+"', ' ID="forged-1"', genuine, count=1)
    forged = re.sub(r"<(\w+:)?Signature\b.*?</(\w+:)?Signature>", "", forged, flags=re.S)
    forged = forged.replace("ada@acme.com", evil_email)
    return base64.b64encode(xml.replace(genuine, forged + genuine).encode()).decode()


def _nested(saml_response: str) -> str:
    """Wrapping, the other way: the genuine signed assertion moved inside a forged one."""
    xml = base64.b64decode(saml_response).decode()
    match = re.search(r"<(\w+:)?Assertion\b.*?</(\w+:)?Assertion>", xml, re.S)
    assert match
    genuine = match.group(0)
    prefix = match.group(1) or ""
    forged_open = f'<{prefix}Assertion ID="forged-2" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><{prefix}Advice>'
    forged = forged_open + genuine + f"</{prefix}Advice></{prefix}Assertion>"
    return base64.b64encode(xml.replace(genuine, forged).encode()).decode()


def test_xml_signature_wrapping_is_refused(session, connected, idp):
    owner, org = connected
    for wrap in (lambda r: _wrapped(r, "mallory@acme.com"), _nested):
        url = start(session)
        acs_url, saml_response, relay_state = idp.respond(url)
        with pytest.raises(sso.SsoRefused, match="wrapping"):
            sso.accept_saml(
                session, organization_id=org.id, saml_response=wrap(saml_response),
                relay_state=relay_state,
            )  # fmt: skip
        session.rollback()
    assert accounts.find_user(session, "mallory@acme.com") is None


def test_a_response_to_another_request_is_refused(session, connected, idp):
    """InResponseTo must be the request of the sign-in the RelayState names."""
    owner, org = connected
    first, second = start(session), start(session)
    _, response_to_first, _ = idp.respond(first)
    _, _, relay_of_second = idp.respond(second)
    with pytest.raises(sso.SsoRefused, match="InResponseTo|no sign-in of ours"):
        sso.accept_saml(
            session, organization_id=org.id, saml_response=response_to_first,
            relay_state=relay_of_second,
        )  # fmt: skip


def test_an_address_outside_the_verified_domains_is_refused(session, connected, idp):
    owner, org = connected
    idp.user = SamlUser(email="eve@elsewhere.com")
    with pytest.raises(sso.SsoRefused, match="verified company domains"):
        post_back(session, org, idp, start(session))


def test_set_up_checks_the_metadata_and_seals_our_key(session, team, idp):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        sso.save_saml(session, user=owner, organization_id=org.id, metadata_xml="<not-metadata/>")
    assert "metadata" in refused.value.errors
    session.rollback()
    with pytest.raises(ValidationFailed) as refused:
        sso.save_saml(session, user=owner, organization_id=org.id, metadata_xml="")
    assert "Paste or upload" in refused.value.errors["metadata"]
    session.rollback()
    # by URL: the IdP's metadata address (on this machine: only with SSO_ALLOW_PRIVATE_IDP)
    from orgportal.config import settings

    settings.sso_allow_private_idp = False
    try:
        with pytest.raises(ValidationFailed) as refused:
            sso.save_saml(
                session, user=owner, organization_id=org.id, metadata_url=f"{idp.base}/metadata"
            )
        assert "https://" in refused.value.errors["metadata_url"]
    finally:
        settings.sso_allow_private_idp = True
    session.rollback()
    sso.save_saml(session, user=owner, organization_id=org.id, metadata_url=f"{idp.base}/metadata")
    session.commit()
    row = session.get(SsoConnection, org.id)
    assert row.saml_idp_entity_id == idp.entity_id
    assert row.saml_sp_key_box.startswith("v1.") and "PRIVATE KEY" not in row.saml_sp_key_box
    metadata = sso.sp_metadata(session, org.id)
    assert f"/api/sso/saml/{org.id}/acs" in metadata and "PRIVATE" not in metadata
    shown = sso.get_settings(session, user=owner, organization_id=org.id)
    assert shown.protocol == "saml" and shown.acs_url.endswith(f"/api/sso/saml/{org.id}/acs")
    with pytest.raises(Conflict, match="Test connection"):
        sso.set_enforced(session, user=owner, organization_id=org.id, enforced=True)


def test_test_connection_then_enforce(session, connected, idp):
    owner, org = connected
    url = sso.start_test(session, user=owner, organization_id=org.id, browser=BROWSER)
    session.commit()
    code = post_back(session, org, idp, url)
    finished = sso.finish_saml(session, code=code, browser=BROWSER)
    session.commit()
    assert finished.ticket == "" and finished.test_email == "ada@acme.com"
    sso.set_enforced(session, user=owner, organization_id=org.id, enforced=True)
    session.commit()
    assert session.get(SsoConnection, org.id).enforced


def test_precheck_refuses_doctype_and_non_responses():
    with pytest.raises(sso_saml.SamlRefused):
        sso_saml.precheck('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(sso_saml.SamlRefused, match="not a Response"):
        sso_saml.precheck('<x xmlns="urn:oasis:names:tc:SAML:2.0:protocol"/>')
