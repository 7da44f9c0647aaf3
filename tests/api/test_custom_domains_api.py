"""REST for branded short-link domains (SPEC §15): list, add, verify, remove; `domain` on
links; `domains` in the usage report. DNS answers come from the local test server."""


import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orgportal.config import settings
from orgportal.models import Role, Subscription
from tests.api.conftest import Team
from tests.dns_server import LocalDns


@pytest.fixture
def paid(team: Team, session: Session) -> Team:
    session.add(
        Subscription(
            organization_id=team.org.id,
            kind="plan",
            plan_key="starter",
            status="active",
            stripe_subscription_id="sub_starter",
        )
    )
    session.commit()
    return team


def domains_url(team: Team) -> str:
    return f"/api/organizations/{team.org.public_id}/domains"


def test_add_verify_list_and_remove(client: TestClient, paid: Team, dns: LocalDns):
    owner = paid.keys["owner"]
    added = client.post(domains_url(paid), json={"domain": "Go.Acme.com"}, headers=owner)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["domain"] == "go.acme.com" and body["status"] == "pending"
    assert body["record_type"] == "TXT" and body["record_name"] == "_orgportal.go.acme.com"
    assert body["record_value"].startswith("orgportal-verify=")

    url = f"{domains_url(paid)}/{body['id']}"
    # the record is not there yet: still pending, not failed
    pending = client.post(f"{url}/verify", headers=owner).json()
    assert (pending["status"], pending["failure_reason"]) == ("pending", "not found yet")

    dns.set_txt(body["record_name"], body["record_value"])
    verified = client.post(f"{url}/verify", headers=paid.keys["admin"]).json()
    assert verified["status"] == "verified" and verified["verified_at"]

    listed = client.get(domains_url(paid), headers=owner).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "verified"

    assert client.delete(url, headers=owner).json() == {"message": "Domain removed"}
    assert client.get(domains_url(paid), headers=owner).json()["total"] == 0
    assert client.delete(url, headers=owner).status_code == 404


def test_bad_input_limits_and_roles(client: TestClient, paid: Team):
    owner = paid.keys["owner"]
    bad = client.post(domains_url(paid), json={"domain": "https://go.acme.com/x"}, headers=owner)
    assert bad.status_code == 422 and "domain" in bad.json()["errors"]
    assert (
        client.post(domains_url(paid), json={"domain": "go.acme.com"}, headers=owner).status_code
        == 201
    )
    over = client.post(domains_url(paid), json={"domain": "two.acme.com"}, headers=owner)
    assert over.status_code == 409
    assert over.json()["detail"] == (
        "Custom domain limit reached: the Starter plan allows 1 custom domain."
    )
    for role in (Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER):
        assert client.get(domains_url(paid), headers=paid.keys[role]).status_code == 403
    assert client.get(domains_url(paid), headers=paid.keys["outsider"]).status_code == 404


def test_a_domain_taken_by_another_organization_is_refused(client: TestClient, paid: Team, session):
    session.add(
        Subscription(
            organization_id=paid.other_org.id,
            kind="plan",
            plan_key="basic",
            status="active",
            stripe_subscription_id="sub_other",
        )
    )
    session.commit()
    client.post(domains_url(paid), json={"domain": "go.acme.com"}, headers=paid.keys["owner"])
    taken = client.post(
        f"/api/organizations/{paid.other_org.public_id}/domains",
        json={"domain": "go.acme.com"},
        headers=paid.keys["other_owner"],
    )
    assert taken.status_code == 409


def test_usage_counts_custom_domains_against_the_plans_limit(client: TestClient, paid: Team):
    client.post(domains_url(paid), json={"domain": "go.acme.com"}, headers=paid.keys["owner"])
    usage = client.get(f"/api/organizations/{paid.org.public_id}/usage", headers=paid.keys["viewer"])
    assert usage.json()["usage"]["domains"] == 1
    assert usage.json()["limits"]["domains"] == 1


def test_links_on_a_verified_domain(client: TestClient, paid: Team, dns: LocalDns):
    owner = paid.keys["owner"]
    body = client.post(domains_url(paid), json={"domain": "go.acme.com"}, headers=owner).json()
    link = {"target_url": "https://example.com/sale", "slug": "sale", "domain": "go.acme.com"}
    refused = client.post("/api/links", json=link, headers=owner)  # not verified yet
    assert refused.status_code == 404  # not (yet) a verified domain of this organization
    assert refused.json()["detail"] == "go.acme.com is not a verified domain of this organization."

    dns.set_txt(body["record_name"], body["record_value"])
    client.post(f"{domains_url(paid)}/{body['id']}/verify", headers=owner)
    created = client.post("/api/links", json=link, headers=paid.keys["agent"])
    assert created.status_code == 201, created.text
    assert created.json()["domain"] == "go.acme.com"
    assert created.json()["short_url"] == "https://go.acme.com/sale"
    plain = client.post(
        "/api/links", json={"target_url": "https://example.com/", "slug": "plain"}, headers=owner
    ).json()
    assert plain["domain"] is None and plain["short_url"] == f"{settings.public_url}/l/plain"
    listed = {
        item["slug"]: item for item in client.get("/api/links", headers=owner).json()["items"]
    }
    assert listed["sale"]["short_url"] == "https://go.acme.com/sale"

    client.delete(f"{domains_url(paid)}/{body['id']}", headers=owner)
    listed = {
        item["slug"]: item for item in client.get("/api/links", headers=owner).json()["items"]
    }
    assert listed["sale"]["domain"] is None
    assert listed["sale"]["short_url"] == f"{settings.public_url}/l/sale"
