"""Organization API keys over HTTP (SPEC §8, §17): each scope opens its routes and no others
(403 with a message naming the scope it needs), the key stays in its organization, and it
outlives the member who made it, while a member's own key stops where they left."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orgportal.models import Link, OrganizationApiKey, Role
from orgportal.services import members, organization_keys, tickets
from tests.api.conftest import Team, bearer
from tests.factories import PASSWORD, add_member, make_org, make_user


def org_key(session: Session, team: Team, *scopes: str) -> dict[str, str]:
    raw, _ = organization_keys.create_key(
        session,
        user=team.users["owner"],
        organization_id=team.org.id,
        name="Service",
        scopes=list(scopes),
        password=PASSWORD,
    )
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def a_ticket(session: Session, team: Team) -> str:
    ticket = tickets.create_ticket(
        session,
        user=team.users["owner"],
        organization_id=team.org.id,
        data={"name": "Ann", "email": "ann@example.com", "subject": "Help", "message": "Hi"},
    )
    session.commit()
    return ticket.number


def refused(response, scope_label: str | None) -> None:
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert "This API key's scopes" in detail
    if scope_label:
        assert f"needs the {scope_label} scope" in detail
    else:
        assert "never can" in detail


# What each scope may do, as (method, path, body) with {org}, {viewer} and {link} filled in.
READS = [
    ("GET", "/api/organizations/{org}", None),
    ("GET", "/api/organizations/{org}/members", None),
    ("GET", "/api/organizations/{org}/usage", None),
    ("GET", "/api/links", None),
]
LINK_WRITES = [("POST", "/api/links", {"target_url": "https://example.com/a"})]
MEMBER_WRITES = [
    ("PATCH", "/api/organizations/{org}/members/{viewer}", {"role": "agent"}),
    ("DELETE", "/api/organizations/{org}/members/{viewer}", None),
]
TICKET_READS = [("GET", "/api/organizations/{org}/tickets", None)]
BILLING_READS = [("GET", "/api/organizations/{org}/billing", None)]
NEVER = [
    ("PUT", "/api/organizations/{org}", {"name": "Renamed"}),
    ("DELETE", "/api/organizations/{org}", None),
]
GROUPS = {
    "links": (LINK_WRITES, "Links"),
    "members": (MEMBER_WRITES, "Members"),
    "tickets": (TICKET_READS, "Tickets"),
    "billing_read": (BILLING_READS, "Billing (read)"),
}


def call(client: TestClient, team: Team, headers, method: str, path: str, body):
    url = path.format(org=team.org.public_id, viewer=team.users["viewer"].public_id)
    return client.request(method, url, headers=headers, json=body)


@pytest.mark.parametrize("scope", list(organization_keys.SCOPES))
def test_each_scope_opens_its_routes_and_refuses_the_others(
    client: TestClient, session: Session, team: Team, scope
):
    a_ticket(session, team)
    headers = org_key(session, team, scope)
    for method, path, body in READS:  # every scope reads its organization
        response = call(client, team, headers, method, path, body)
        assert response.status_code == 200, (path, response.text)
    for group, (routes, label) in GROUPS.items():
        for method, path, body in routes:
            response = call(client, team, headers, method, path, body)
            if group == scope:
                assert response.status_code in (200, 201), (path, response.text)
            else:
                refused(response, label)
    for method, path, body in NEVER:
        refused(call(client, team, headers, method, path, body), None)


def test_the_links_scope_deletes_links_and_read_only_cannot(
    client: TestClient, session: Session, team: Team
):
    link = client.post(
        "/api/links", headers=team.keys["agent"], json={"target_url": "https://x.io"}
    ).json()
    reader = org_key(session, team, "read")
    refused(client.delete(f"/api/links/{link['id']}", headers=reader), "Links")
    writer = org_key(session, team, "links")
    assert client.delete(f"/api/links/{link['id']}", headers=writer).status_code == 200
    assert session.get(Link, link["id"]) is None


def test_a_key_answers_only_for_its_organization(client: TestClient, session: Session, team: Team):
    headers = org_key(session, team, *organization_keys.SCOPES)
    listed = client.get("/api/organizations", headers=headers).json()
    assert [(w["id"], w["name"]) for w in listed] == [
        (team.org.public_id, "Acme Marketing Team")
    ]  # its one workspace: no Personal Workspace
    other = f"/api/organizations/{team.other_org.public_id}"
    assert client.get(other, headers=headers).status_code == 404
    switched = client.post(f"{other}/switch", headers=headers)
    assert switched.status_code == 403 and "cannot switch" in switched.json()["detail"]
    created = client.post("/api/organizations", headers=headers, json={"name": "Mine"})
    assert created.status_code == 403
    assert "cannot create organizations" in created.json()["detail"]
    link = client.post("/api/links", headers=headers, json={"target_url": "https://x.io"})
    assert link.status_code == 201
    listed = client.get("/api/links", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [link.json()["id"]]
    assert session.get(Link, link.json()["id"]).organization_id == team.org.id


def test_revoked_rotated_and_unknown_keys_get_401(client: TestClient, session: Session, team: Team):
    owner = team.users["owner"]
    raw, key = organization_keys.create_key(
        session,
        user=owner,
        organization_id=team.org.id,
        name="K",
        scopes=["read"],
        password=PASSWORD,
    )
    session.commit()
    url = f"/api/organizations/{team.org.public_id}"
    assert client.get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    new, _ = organization_keys.rotate_key(
        session, user=owner, organization_id=team.org.id, key_id=key.id, password=PASSWORD
    )
    session.commit()
    assert client.get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {new}"}).status_code == 200
    organization_keys.revoke_key(session, user=owner, organization_id=team.org.id, key_id=key.id)
    session.commit()
    gone = client.get(url, headers={"Authorization": f"Bearer {new}"})
    assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
    unknown = client.get(url, headers={"Authorization": "Bearer opk_nothing"})
    assert unknown.status_code == 401


def test_last_use_is_recorded_with_the_address(client: TestClient, session: Session, team: Team):
    headers = org_key(session, team, "read")
    client.get(f"/api/organizations/{team.org.public_id}", headers=headers)
    session.expire_all()
    (key,) = session.query(OrganizationApiKey).all()
    assert key.last_used_at is not None and key.last_used_address == "testclient"


def test_the_key_outlives_its_creator_leaving(client: TestClient, session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    raw, _ = organization_keys.create_key(
        session,
        user=admin,
        organization_id=org.id,
        name="Made by admin",
        scopes=["members"],
        password=PASSWORD,
    )
    session.commit()
    members.remove_member(session, user=owner, organization_id=org.id, member_id=admin.id)
    session.commit()
    listed = client.get(
        f"/api/organizations/{org.public_id}/members", headers={"Authorization": f"Bearer {raw}"}
    )
    assert listed.status_code == 200
    assert [m["user_id"] for m in listed.json()["items"]] == [owner.public_id]  # no service account


def test_a_members_own_key_stops_in_the_organization_they_leave(
    client: TestClient, session: Session
):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    headers = bearer(session, agent, org.id)
    url = f"/api/organizations/{org.public_id}"
    assert client.get(url, headers=headers).status_code == 200
    made = client.post("/api/links", headers=headers, json={"target_url": "https://x.io"})
    assert session.get(Link, made.json()["id"]).organization_id == org.id
    members.leave(session, user=agent, organization_id=org.id)
    session.commit()
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{url}/members", headers=headers).status_code == 404
    after = client.post("/api/links", headers=headers, json={"target_url": "https://y.io"})
    assert after.status_code == 201
    assert session.get(Link, after.json()["id"]).organization_id is None  # Personal now
