"""/api/organizations over HTTP: each endpoint's success and every refusal of SPEC §3."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal import security
from orgportal.models import (
    ApiKey,
    AuthorizedDomain,
    CustomDomain,
    Link,
    Organization,
    Role,
    WorkspaceToken,
)
from orgportal.services import accounts, api_keys, links, members
from tests.api.conftest import Team, bearer
from tests.factories import make_org, make_user, open_session

NOT_FOUND = {"detail": "Organization not found."}


def test_create_returns_the_new_organization_with_the_caller_as_owner(
    client: TestClient, session: Session
):
    user = make_user(session)
    response = client.post(
        "/api/organizations",
        headers=bearer(session, user),
        json={"name": "  Client: Nike ", "description": "Sports"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Client: Nike"
    assert body["slug"].startswith("client-nike-")
    assert body["owner_id"] == user.public_id and user.public_id.startswith("user_")
    assert body["subscription_tier"] == "free"
    assert set(body) == {"id", "name", "slug", "owner_id", "subscription_tier", "created_at"}
    created = session.exec(select(Organization).where(Organization.public_id == body["id"])).one()
    assert created.description == "Sports" and re.fullmatch(r"org_[a-z0-9]{12}", body["id"])


def test_create_refuses_a_bad_name_and_stores_nothing(client: TestClient, session: Session):
    response = client.post(
        "/api/organizations", headers=bearer(session, make_user(session)), json={"name": "x"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"name": "Use at least 2 characters."}
    assert session.exec(select(Organization)).all() == []


def test_list_starts_with_the_personal_workspace_and_pages(client: TestClient, session: Session):
    user = make_user(session)
    for name in ("Beta", "Alpha", "Gamma"):
        make_org(session, user, name)
    headers = bearer(session, user)
    answer = client.get("/api/organizations", headers=headers)
    everything = answer.json()  # a bare array, as seed 003 shows it
    assert answer.headers["X-Total-Count"] == "4"
    names = [item["name"] for item in everything]
    assert names == ["Personal Workspace", "Alpha", "Beta", "Gamma"]
    personal = everything[0]
    assert personal["id"] == "org_personal" and personal["personal"] and personal["active"]
    assert personal["role"] == "owner" and personal["member_count"] == 1
    alpha = everything[1]
    assert alpha["role"] == "owner" and alpha["member_count"] == 1 and alpha["joined_at"]
    assert alpha["id"].startswith("org_") and not alpha["active"]
    page = client.get("/api/organizations?limit=2&offset=1", headers=headers)
    assert [i["name"] for i in page.json()] == ["Alpha", "Beta"]
    assert page.headers["X-Total-Count"] == "4"


def test_list_shows_only_the_callers_organizations(client: TestClient, team: Team):
    items = client.get("/api/organizations", headers=team.keys["viewer"]).json()
    assert [(i["id"], i["name"], i["role"], i["active"]) for i in items] == [
        ("org_personal", "Personal Workspace", "owner", False),
        (team.org.public_id, "Acme Marketing Team", "viewer", True),
    ]
    assert items[1]["member_count"] == 5


def test_get_shows_details_to_every_member(client: TestClient, team: Team, session: Session):
    links.create_link(
        session, user=team.users["agent"], organization_id=team.org.id, target_url="https://a.io"
    )
    session.commit()
    for role in Role:
        response = client.get(
            f"/api/organizations/{team.org.public_id}", headers=team.keys[role.value]
        )
        assert response.status_code == 200, role
        body = response.json()
        assert body["role"] == role.value
    assert body["owner_id"] == team.users["owner"].public_id
    assert body["id"] == team.org.public_id
    assert (body["member_count"], body["link_count"]) == (5, 1)
    assert body["subscription_tier"] == "free" and body["subscription_status"] is None
    assert body["settings"]["default_attribution_window"] == 168
    assert body["updated_at"] and body["created_at"]


def test_another_organizations_id_looks_exactly_like_a_missing_one(client: TestClient, team: Team):
    outsider = team.keys["outsider"]
    for suffix in ("", "/usage", "/members", "/invites"):
        theirs = client.get(f"/api/organizations/{team.org.public_id}{suffix}", headers=outsider)
        missing = client.get(f"/api/organizations/org_000000000000{suffix}", headers=outsider)
        personal = client.get(f"/api/organizations/org_personal{suffix}", headers=outsider)
        assert theirs.status_code == missing.status_code == personal.status_code == 404, suffix
        assert theirs.json() == missing.json() == personal.json() == NOT_FOUND


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_update_profile_and_settings(client: TestClient, team: Team, role):
    response = client.put(
        f"/api/organizations/{team.org.public_id}",
        headers=team.keys[role],
        json={"name": "Acme Marketing & Growth", "settings": {"allow_members_to_invite": True}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Acme Marketing & Growth"
    assert body["description"] == ""  # untouched
    assert body["settings"] == {
        "allow_members_to_invite": True,
        "require_approval_for_links": False,
        "default_attribution_window": 168,
        "purpose": "",
        "owner": "",
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_others_cannot_update(client: TestClient, team: Team, session: Session, who, status):
    for body in ({"name": "Hijacked"}, {"settings": {"allow_members_to_invite": True}}, {}):
        response = client.put(
            f"/api/organizations/{team.org.public_id}", headers=team.keys[who], json=body
        )
        assert response.status_code == status, body
    session.expire_all()
    org = session.get(Organization, team.org.id)
    assert org.name == "Acme Marketing Team" and not org.allow_members_to_invite


def test_an_invalid_update_changes_nothing(client: TestClient, team: Team, session: Session):
    response = client.put(
        f"/api/organizations/{team.org.public_id}",
        headers=team.keys["owner"],
        json={"name": "Renamed", "settings": {"default_attribution_window": 0}},
    )
    assert response.status_code == 422
    assert "settings.default_attribution_window" in response.json()["errors"]
    session.expire_all()
    assert session.get(Organization, team.org.id).name == "Acme Marketing Team"
    bad_logo = client.put(
        f"/api/organizations/{team.org.public_id}",
        headers=team.keys["admin"],
        json={"logo_url": "http://insecure.example/logo.png"},
    )
    assert bad_logo.status_code == 422 and "logo_url" in bad_logo.json()["errors"]
    for url in ("/api/logos/../auth/session?ticket=x", "/api/logos/x.png?y"):
        traversal = client.put(
            f"/api/organizations/{team.org.public_id}",
            headers=team.keys["admin"],
            json={"logo_url": url},
        )
        assert traversal.status_code == 422
        assert "https://" in traversal.json()["errors"]["logo_url"]
    session.expire_all()
    assert session.get(Organization, team.org.id).logo_url == ""


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 403), ("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_the_owner_deletes(client: TestClient, team: Team, session: Session, who, status):
    response = client.delete(f"/api/organizations/{team.org.public_id}", headers=team.keys[who])
    assert response.status_code == status
    session.expire_all()
    assert session.get(Organization, team.org.id) is not None


def test_the_owner_deletes_and_keys_fall_back_to_personal(
    client: TestClient, team: Team, session: Session
):
    org_id, public_id = team.org.id, team.org.public_id
    response = client.delete(f"/api/organizations/{public_id}", headers=team.keys["owner"])
    assert response.status_code == 200
    assert response.json() == {"message": "Organization deleted successfully"}
    session.expire_all()
    assert session.get(Organization, org_id) is None
    assert all(k.active_org_id != org_id for k in session.exec(select(ApiKey)))
    created = client.post(
        "/api/links", headers=team.keys["agent"], json={"target_url": "https://after.example"}
    )
    assert created.status_code == 201 and created.json()["organization_id"] == "org_personal"
    again = client.delete(f"/api/organizations/{public_id}", headers=team.keys["owner"])
    assert again.status_code == 404


def test_switch_answers_a_workspace_token_and_leaves_the_key_alone(
    client: TestClient, team: Team, session: Session
):
    """SPEC §8: the token is a real bearer carrying the organization; the key keeps its own
    workspace, so another script using the same key is unaffected."""
    key = team.keys["agent"]  # its workspace: Acme
    switched = client.post("/api/organizations/personal/switch", headers=key)
    assert switched.status_code == 200
    body = switched.json()
    assert body["organization"] == {
        "id": "org_personal", "name": "Personal Workspace", "role": "owner",
    }  # fmt: skip
    assert body["user"] == {
        "id": team.users["agent"].public_id, "email": "agent@example.com", "name": "Test User",
    }  # fmt: skip
    assert body["token"].startswith("opw_") and len(body["token"]) > 40
    personal = {"Authorization": f"Bearer {body['token']}"}
    link = client.post("/api/links", headers=personal, json={"target_url": "https://p.example"})
    assert link.status_code == 201 and link.json()["organization_id"] == "org_personal"
    # the key itself still works in Acme
    link = client.post("/api/links", headers=key, json={"target_url": "https://o.example"})
    assert link.json()["organization_id"] == team.org.public_id
    listed = client.get("/api/organizations", headers=personal).json()
    assert [i["active"] for i in listed] == [True, False]
    assert [i["active"] for i in client.get("/api/organizations", headers=key).json()] == [
        False, True,
    ]  # fmt: skip
    # switching from a token: a new token of the same key
    back = client.post(f"/api/organizations/{team.org.public_id}/switch", headers=personal)
    assert back.status_code == 200
    assert back.json()["organization"] == {
        "id": team.org.public_id, "name": "Acme Marketing Team", "role": "agent",
    }  # fmt: skip
    also = client.post("/api/organizations/org_personal/switch", headers=key)
    assert also.json()["organization"]["id"] == "org_personal"
    session.expire_all()  # no key moved
    assert {k.active_org_id for k in session.exec(select(ApiKey))} == {
        team.org.id, team.other_org.id,
    }  # fmt: skip


def test_a_workspace_token_is_stored_hashed_and_revocable(
    client: TestClient, team: Team, session: Session
):
    raw = client.post(
        f"/api/organizations/{team.org.public_id}/switch", headers=team.keys["admin"]
    ).json()["token"]
    token = {"Authorization": f"Bearer {raw}"}
    stored = session.exec(select(WorkspaceToken)).one()
    assert stored.token_hash == security.token_hash(raw) and raw not in stored.token_hash
    assert client.get(f"/api/organizations/{team.org.public_id}", headers=token).is_success
    revoked = client.delete("/api/workspace-token", headers=token)
    assert revoked.json() == {"message": "Workspace token revoked"}
    refused = client.get(f"/api/organizations/{team.org.public_id}", headers=token)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This workspace token has been revoked."}
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    # with the key itself there is no token to revoke; the key still works
    with_key = client.delete("/api/workspace-token", headers=team.keys["admin"])
    assert with_key.status_code == 404 and "API key" in with_key.json()["detail"]
    assert client.get("/api/organizations", headers=team.keys["admin"]).is_success


def test_a_workspace_token_ends_with_its_key_and_its_membership(
    client: TestClient, team: Team, session: Session
):
    def token_of(who: str) -> dict[str, str]:
        url = f"/api/organizations/{team.org.public_id}/switch"
        raw = client.post(url, headers=team.keys[who]).json()["token"]
        return {"Authorization": f"Bearer {raw}"}

    viewer, agent = token_of("viewer"), token_of("agent")
    api_keys.revoke_key(session, user=team.users["viewer"], key_id=_key_id(session, "viewer", team))
    session.commit()
    refused = client.get("/api/organizations", headers=viewer)
    assert refused.json() == {
        "detail": "The API key this workspace token came from has been revoked."
    }
    members.remove_member(
        session, user=team.users["owner"], organization_id=team.org.id,
        member_id=team.users["agent"].id,
    )  # fmt: skip
    session.commit()
    gone = client.post("/api/links", headers=agent, json={"target_url": "https://x.example"})
    assert gone.status_code == 401
    assert "no longer a member" in gone.json()["detail"]
    assert session.exec(select(Link)).all() == []  # nothing landed in Personal instead


def _key_id(session: Session, who: str, team: Team) -> int:
    return session.exec(select(ApiKey.id).where(ApiKey.user_id == team.users[who].id)).one()


def test_switch_into_a_foreign_organization_is_404(client: TestClient, team: Team):
    response = client.post(
        f"/api/organizations/{team.org.public_id}/switch", headers=team.keys["outsider"]
    )
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_usage_reports_the_pool_its_limits_and_domains(
    client: TestClient, team: Team, session: Session
):
    links.create_link(
        session, user=team.users["admin"], organization_id=team.org.id, target_url="https://u.io"
    )
    session.add(AuthorizedDomain(organization_id=team.org.id, domain="shop.example.com"))
    session.add(CustomDomain(organization_id=team.org.id, domain="go.acme.com", token="t"))
    session.commit()  # SPEC §15: `domains` counts custom domains, not authorized ones
    for role in Role:  # every member may read usage (SPEC §3)
        response = client.get(
            f"/api/organizations/{team.org.public_id}/usage", headers=team.keys[role]
        )
        assert response.status_code == 200, role
    assert response.json() == {
        "usage": {"links": 1, "storage_bytes": 0, "members": 5, "domains": 1},
        "limits": {"links": 50, "storage_bytes": 100 * 1024 * 1024, "members": 3, "domains": 0},
        "tier": "free",
    }
    assert session.exec(select(Link)).one().organization_id == team.org.id


def test_list_follows_the_switchers_order_most_recently_used_first(
    client: TestClient, session: Session
):
    """The organizations opened in the app most recently come first (those never
    opened there follow, by name); the Personal Workspace stays first."""
    user = make_user(session)
    orgs = {name: make_org(session, user, name) for name in ("Alpha", "Beta", "Gamma")}
    raw, _ = open_session(session, user)
    session.commit()
    viewer = accounts.authenticate(session, raw)
    for name in ("Gamma", "Beta"):
        accounts.switch_workspace(session, viewer, orgs[name].id)
        session.commit()
    items = client.get("/api/organizations", headers=bearer(session, user)).json()
    assert [i["name"] for i in items] == ["Personal Workspace", "Beta", "Gamma", "Alpha"]
