"""/api/links over HTTP: create, list, delete in the key's active workspace (SPEC §7, §8)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orgportal import db
from orgportal.models import Link
from orgportal.services import links
from tests.api.conftest import Recorder, Team, bearer
from tests.factories import make_user


def create(client: TestClient, headers: dict, url: str = "https://example.com/a", slug: str = ""):
    return client.post("/api/links", headers=headers, json={"target_url": url, "slug": slug})


@pytest.mark.parametrize("role", ["owner", "admin", "billing_admin", "agent"])
def test_members_who_may_create_items_create_links_in_the_organization(
    client: TestClient, team: Team, live: Recorder, role
):
    response = create(client, team.keys[role], slug=f"spring-{role.replace('_', '-')}")
    assert response.status_code == 201
    body = response.json()
    assert body["organization_id"] == team.org.public_id
    assert body["owner_id"] == team.users[role].public_id
    assert body["short_url"].endswith(f"/l/{body['slug']}")
    assert live.for_pages() == [{("usage", team.org.id)}]  # the open pages' bars move (after commit)


def test_a_viewer_cannot_create_links(client: TestClient, team: Team, session: Session, live):
    response = create(client, team.keys["viewer"])
    assert response.status_code == 403
    assert session.exec(select(func.count()).select_from(Link)).one() == 0
    assert live.published == []


def test_a_personal_key_creates_personal_links(client: TestClient, session: Session):
    user = make_user(session)
    response = create(client, bearer(session, user), slug="mine")
    assert response.status_code == 201
    assert response.json()["organization_id"] == "org_personal"


def test_refusals_create_nothing(client: TestClient, team: Team, session: Session):
    headers = team.keys["agent"]
    bad = create(client, headers, url="ftp://example.com", slug="Not A Slug")
    assert bad.status_code == 422  # both refused by the documented shapes, before any rule
    assert set(bad.json()["errors"]) == {"target_url", "slug"}
    reserved = create(client, headers, slug="login")  # the shape allows it; the rule does not
    assert reserved.status_code == 422 and "reserved" in reserved.json()["errors"]["slug"]
    assert create(client, headers, slug="taken").status_code == 201
    taken = create(client, headers, slug="taken")
    assert taken.status_code == 409 and "already taken" in taken.json()["detail"]
    assert session.exec(select(func.count()).select_from(Link)).one() == 1


def test_the_pool_limit_is_409(client: TestClient, team: Team, session: Session):
    for n in range(50):  # Free plan: 50 links
        links.create_link(
            session, user=team.users["owner"], organization_id=team.org.id,
            target_url=f"https://example.com/{n}",
        )  # fmt: skip
    session.commit()
    response = create(client, team.keys["agent"])
    assert response.status_code == 409
    assert response.json()["detail"] == "Link limit reached: the Free plan allows 50 links."


def test_list_shows_the_workspace_in_pages(client: TestClient, team: Team, session: Session):
    for n in range(3):
        assert create(client, team.keys["agent"], url=f"https://example.com/{n}").status_code == 201
    create(client, team.keys["other_owner"], url="https://elsewhere.example")
    page = client.get("/api/links?limit=2", headers=team.keys["viewer"]).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0]["target_url"] == "https://example.com/2"  # newest first
    rest = client.get("/api/links?limit=2&offset=2", headers=team.keys["viewer"]).json()
    assert [i["target_url"] for i in rest["items"]] == ["https://example.com/0"]
    theirs = client.get("/api/links", headers=team.keys["other_owner"]).json()
    assert [i["target_url"] for i in theirs["items"]] == ["https://elsewhere.example"]


def test_delete_by_creator_or_admin_not_by_other_members(
    client: TestClient, team: Team, session: Session, live: Recorder
):
    mine = create(client, team.keys["agent"], slug="agents-own").json()
    other = create(client, team.keys["billing_admin"], slug="billing-own").json()
    refused = client.delete(f"/api/links/{other['id']}", headers=team.keys["agent"])
    assert refused.status_code == 403
    assert client.delete(f"/api/links/{mine['id']}", headers=team.keys["viewer"]).status_code == 403
    live.published.clear()
    assert client.delete(f"/api/links/{mine['id']}", headers=team.keys["agent"]).status_code == 200
    # the open pages' bars, and every worker's cached redirect of the link (redirect_cache)
    assert live.for_pages() == [{("usage", team.org.id), (db.REDIRECT_LINK, mine["id"])}]
    response = client.delete(f"/api/links/{other['id']}", headers=team.keys["admin"])
    assert response.status_code == 200 and response.json() == {"message": "Link deleted"}
    assert session.exec(select(func.count()).select_from(Link)).one() == 0


def test_another_organizations_link_is_404(client: TestClient, team: Team, session: Session):
    theirs = create(client, team.keys["other_owner"], slug="not-yours").json()
    response = client.delete(f"/api/links/{theirs['id']}", headers=team.keys["owner"])
    assert response.status_code == 404
    assert response.json() == {"detail": "Link not found."}
    assert client.delete("/api/links/999999", headers=team.keys["owner"]).json() == response.json()
    assert session.exec(select(func.count()).select_from(Link)).one() == 1
