""" "Continue with SSO" on the sign-in page (SPEC §16), driven through the real Reflex handler
with the router data a websocket gives it: a work email at a verified company domain with
single sign-on sends the browser to the organization's IdP (a full page load of its
authorization URL, state bound to this tab's browser nonce); any other address is refused
beside the field and goes nowhere."""

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import select

from orgportal import db
from orgportal.config import settings
from orgportal.models import CompanyDomain, DomainStatus, SsoLogin, Subscription
from orgportal.models.base import utcnow
from orgportal.security import token_hash
from orgportal.services import sso
from orgportal.state.sso import SsoSignInState
from tests.factories import make_org, make_user
from tests.oidc_provider import OidcProvider

NONCE = "nonce-of-this-tab"


@pytest.fixture(autouse=True)
def app_db(engine, monkeypatch, secret_key):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "sso_allow_private_idp", True)  # the IdP on 127.0.0.1


@pytest.fixture(scope="module")
def provider():
    running = OidcProvider().start()
    yield running
    running.stop()


def connected():
    root = State(_reflex_internal_init=True)
    headers = {"asgi-scope-client": "203.0.113.7", "cookie": f"{settings.browser_cookie}={NONCE}"}
    root._update_router_vars(
        {constants.RouteVar.CLIENT_IP: "203.0.113.7", constants.RouteVar.HEADERS: headers}, {}
    )
    return root.get_substate(SsoSignInState.get_full_name().split(".")[1:])


def script_of(spec) -> str:
    return spec.args[0][1]._var_value


def test_a_work_email_goes_to_the_idp_and_others_are_refused(session, provider):
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
    client = provider.add_client(sso.redirect_uri())
    sso.save_oidc(
        session, user=owner, organization_id=org.id, issuer=provider.issuer,
        client_id=client.client_id, client_secret=client.client_secret,
    )  # fmt: skip
    session.commit()

    page = connected()
    page.open_sso()
    assert page.sso_open
    refused = asyncio.run(page.continue_with_sso({"sso_email": "zoe@elsewhere-corp.com"}))
    assert refused is None
    assert (
        page.sso_error
        == "No single sign-on is set up for elsewhere-corp.com. Sign in with your password."
    )

    spec = asyncio.run(page.continue_with_sso({"sso_email": "Zoe@Acme.com"}))
    assert page.sso_error == ""
    code = script_of(spec)
    assert code.startswith("window.location.assign(")
    url = code[len("window.location.assign(") + 1 : -2]
    assert url.startswith(f"{provider.issuer}/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["login_hint"] == ["zoe@acme.com"]
    login = session.exec(select(SsoLogin)).one()
    assert login.browser_hash == token_hash(NONCE)  # bound to this tab's browser
    assert login.state_hash == token_hash(query["state"][0])

    page.close_sso()
    assert not page.sso_open and page.sso_error == ""
