"""The REST API honours an organization's Security settings (SPEC §13): API keys of a member
without two-factor sign-in are refused for an organization that requires it, and calls
from outside its IP allowlist are refused, naming the address seen — with a clear 403,
for that organization only."""

from ipaddress import ip_network

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal.config import settings
from orgportal.models import Role, Subscription
from orgportal.services import org_security, two_factor
from tests.api.conftest import Team, bearer

OFFICE = "203.0.113.7"


pytestmark = pytest.mark.usefixtures("secret_key")  # tests/conftest.py


@pytest.fixture
def secured(session: Session, team: Team) -> Team:
    session.add(
        Subscription(organization_id=team.org.id, kind="plan", plan_key="professional",
                     status="active", stripe_subscription_id="sub_sec_api", interval="monthly")
    )  # fmt: skip
    session.commit()
    return team


def configure(session: Session, team: Team, *, require=False, allowlist="") -> None:
    org_security.update_settings(
        session,
        user=team.users["owner"],
        organization_id=team.org.id,
        require_two_factor=require,
        ip_allowlist=allowlist,
        client_address=OFFICE,
        confirm_own_address=True,
    )
    session.commit()


def from_address(client: TestClient, address: str) -> TestClient:
    return TestClient(client.app, client=(address, 50000))


def test_a_key_of_a_member_without_two_factor_is_refused_for_that_organization(
    client, session, secured
):
    configure(session, secured, require=True)
    agent = secured.keys["agent"]
    org = secured.org.public_id
    refused = client.get(f"/api/organizations/{org}", headers=agent)
    assert refused.status_code == 403
    assert "requires two-factor sign-in" in refused.json()["detail"]
    assert "agent@example.com" in refused.json()["detail"]
    assert client.get(f"/api/organizations/{org}/members", headers=agent).status_code == 403
    assert client.get("/api/links", headers=agent).status_code == 403  # its active workspace
    # the key still works elsewhere: listing, and the Personal Workspace
    assert client.get("/api/organizations", headers=agent).status_code == 200
    personal = bearer(session, secured.users["agent"], None)
    assert client.get("/api/links", headers=personal).status_code == 200
    # an outsider's key to another organization is not affected
    outsider = secured.keys["outsider"]
    assert client.get("/api/links", headers=outsider).status_code == 200


def test_the_key_works_once_its_user_turns_two_factor_on(client, session, secured):
    configure(session, secured, require=True)
    agent = secured.users["agent"]
    setup = two_factor.start_setup(session, user=agent)
    two_factor.confirm_setup(session, user=agent, code=pyotp.TOTP(setup.secret).now())
    session.commit()
    response = client.get(f"/api/organizations/{secured.org.public_id}", headers=secured.keys["agent"])
    assert response.status_code == 200


def test_calls_from_outside_the_allowlist_are_refused_naming_the_address(
    client, session, secured
):
    configure(session, secured, allowlist=f"{OFFICE}\n2001:db8::/32")
    key = secured.keys["owner"]
    org = secured.org.public_id
    outside = from_address(client, "198.51.100.9")
    refused = outside.get(f"/api/organizations/{org}", headers=key)
    assert refused.status_code == 403
    assert "198.51.100.9" in refused.json()["detail"]
    assert outside.get("/api/links", headers=key).status_code == 403
    assert outside.get("/api/organizations", headers=key).status_code == 200
    assert from_address(client, OFFICE).get(f"/api/organizations/{org}", headers=key).is_success
    assert from_address(client, "2001:db8::7").get("/api/links", headers=key).is_success


def test_the_forwarded_header_counts_only_from_a_trusted_proxy(
    client, session, secured, monkeypatch
):
    configure(session, secured, allowlist=OFFICE)
    key = {**secured.keys["admin"], "X-Forwarded-For": OFFICE}
    via_proxy = from_address(client, "10.0.0.2")
    assert via_proxy.get("/api/links", headers=key).status_code == 403  # not trusted yet
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.0/8")])
    assert via_proxy.get("/api/links", headers=key).status_code == 200
    forged = from_address(client, "198.51.100.9")  # not a proxy: its header is ignored
    assert forged.get("/api/links", headers=key).status_code == 403


def test_settings_on_a_plan_without_the_feature_are_not_enforced(client, session, secured):
    configure(session, secured, require=True, allowlist=OFFICE)
    row = session.exec(
        select(Subscription).where(Subscription.organization_id == secured.org.id)
    ).one()
    row.status = "canceled"
    session.add(row)
    session.commit()
    response = client.get(f"/api/organizations/{secured.org.public_id}", headers=secured.keys["agent"])
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_the_refusal_is_in_the_openapi_error_shape(client, session, secured, role):
    configure(session, secured, require=True)
    body = client.get("/api/links", headers=secured.keys[role.value]).json()
    assert set(body) == {"detail"}
