"""The single sign-on endpoints over HTTP, behind the gateway as the app serves them
(SPEC §16): the OIDC callback and the SAML ACS end at `/api/auth/session`, which sets the
session cookie as for a password sign-in; the SAML IdP's cross-site POST gets through the
gateway's origin check (only that path); a refusal is a page that says why and is audited."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from orgportal import db, routes
from orgportal.api import build_api
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.models import CompanyDomain, DomainStatus, Subscription
from orgportal.models.base import utcnow
from orgportal.services import accounts, sso
from tests.api.test_gateway import EVIL, reflex_wrapped
from tests.factories import audit_actions, make_org, make_user
from tests.oidc_provider import IdpUser, OidcProvider
from tests.saml_idp import SamlIdp, SamlUser

BROWSER = "the-browser-nonce"


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    client = TestClient(Gateway(reflex_wrapped(build_api())), follow_redirects=False)
    client.cookies.set(settings.browser_cookie, BROWSER)
    return client


@pytest.fixture(scope="module")
def oidc_provider():
    running = OidcProvider().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def saml_idp():
    running = SamlIdp().start()
    yield running
    running.stop()


@pytest.fixture
def private_idp(monkeypatch):
    """The tests' IdPs listen on 127.0.0.1 over http (SSO_ALLOW_PRIVATE_IDP=1)."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "sso_allow_private_idp", True)


@pytest.fixture
def org(session, secret_key, private_idp):
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


def redeem(client: TestClient, location: str) -> str:
    """Follow `/api/auth/session?ticket=…` as the browser does; the session cookie set."""
    assert location.startswith(f"{routes.API_AUTH}/session?ticket=")
    answer = client.get(location)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{routes.SESSION_COOKIE}=") and "HttpOnly" in cookie
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_oidc_callback_opens_a_session_like_a_password_sign_in(client, session, org, oidc_provider):
    owner, organization = org
    oidc_provider.fault, oidc_provider.user = "", IdpUser(sub="s-1", email="ann@acme.com")
    registered = oidc_provider.add_client(sso.redirect_uri())
    sso.save_oidc(
        session, user=owner, organization_id=organization.id, issuer=oidc_provider.issuer,
        client_id=registered.client_id, client_secret=registered.client_secret,
    )  # fmt: skip
    url = sso.start_sign_in(session, email="ann@acme.com", browser=BROWSER, next_path="/links")
    session.commit()
    back = httpx.get(url, follow_redirects=False).headers["location"]
    callback = urlsplit(back)
    answer = client.get(f"{callback.path}?{callback.query}")
    assert answer.status_code == 303
    raw = redeem(client, answer.headers["location"])
    assert accounts.authenticate(session, raw).user.email == "ann@acme.com"
    assert parse_qs(urlsplit(answer.headers["location"]).query)["next"] == ["/links"]
    # the same callback again: the state was used
    again = client.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 400 and "already used" in again.text


def test_oidc_refusal_is_a_page_and_is_audited(client, session, org, oidc_provider):
    owner, organization = org
    oidc_provider.user = IdpUser(sub="s-2", email="bo@acme.com")
    registered = oidc_provider.add_client(sso.redirect_uri())
    sso.save_oidc(
        session, user=owner, organization_id=organization.id, issuer=oidc_provider.issuer,
        client_id=registered.client_id, client_secret=registered.client_secret,
    )  # fmt: skip
    url = sso.start_sign_in(session, email="bo@acme.com", browser=BROWSER)
    session.commit()
    oidc_provider.fault = "wrong_nonce"
    try:
        callback = urlsplit(httpx.get(url, follow_redirects=False).headers["location"])
        answer = client.get(f"{callback.path}?{callback.query}")
    finally:
        oidc_provider.fault = ""
    assert answer.status_code == 400
    assert "Single sign-on did not work" in answer.text and "nonce" in answer.text
    assert "sso.refused" in audit_actions(session, organization.id)


def test_saml_post_from_the_idp_gets_through_and_ends_in_a_session(client, session, org, saml_idp):
    owner, organization = org
    saml_idp.fault, saml_idp.user = "", SamlUser(email="cy@acme.com")
    saml_idp.sp_metadata.clear()
    sso.save_saml(
        session, user=owner, organization_id=organization.id, metadata_xml=saml_idp.metadata()
    )
    session.commit()
    metadata = client.get(routes.sso_saml_metadata(organization.id))
    assert metadata.status_code == 200 and "AssertionConsumerService" in metadata.text
    saml_idp.trust_sp(metadata.text)
    url = sso.start_sign_in(session, email="cy@acme.com", browser=BROWSER)
    session.commit()
    acs_url, saml_response, relay_state = saml_idp.respond(url)
    # the IdP's page posts from its own origin, without our cookies
    answer = TestClient(Gateway(reflex_wrapped(build_api())), follow_redirects=False).post(
        urlsplit(acs_url).path,
        data={"SAMLResponse": saml_response, "RelayState": relay_state},
        headers={"Origin": saml_idp.base, "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 303, answer.text
    finish = answer.headers["location"]
    assert finish.startswith(routes.SSO_FINISH)
    # in another browser, the finish step does nothing
    stranger = TestClient(Gateway(reflex_wrapped(build_api())), follow_redirects=False)
    stranger.cookies.set(settings.browser_cookie, "someone-else")
    assert stranger.get(finish).status_code == 400
    done = client.get(finish)
    assert done.status_code == 303
    raw = redeem(client, done.headers["location"])
    assert accounts.authenticate(session, raw).user.email == "cy@acme.com"


def test_only_the_acs_path_accepts_a_cross_site_post(client):
    refused = client.post(
        f"{routes.API_AUTH}/session", data={"ticket": "x"}, headers={"Origin": EVIL}
    )
    assert refused.status_code == 403
    through = client.post(
        routes.sso_saml_acs(999), data={"SAMLResponse": "", "RelayState": ""},
        headers={"Origin": EVIL},
    )  # fmt: skip
    assert through.status_code == 400 and "Single sign-on did not work" in through.text
    assert client.post("/api/sso/saml/1/acs/x", headers={"Origin": EVIL}).status_code == 403
