"""/api/projects, project_id on /api/links, the approval endpoints and project_count over
HTTP (SPEC §14)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal.models import Link, Organization, OutboxMessage
from tests.api.conftest import Team, bearer
from tests.factories import make_user


def new_project(client: TestClient, headers: dict, name: str = "Launch", **extra):
    return client.post("/api/projects", headers=headers, json={"name": name, **extra})


def test_owner_creates_lists_renames_and_deletes_projects(client: TestClient, team: Team):
    owner = team.keys["owner"]
    made = new_project(client, owner, description="Spring")
    assert made.status_code == 201
    body = made.json()
    assert body["name"] == "Launch" and body["organization_id"] == team.org.public_id
    assert body["link_count"] == 0
    listed = client.get("/api/projects", headers=team.keys["viewer"]).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    renamed = client.patch(
        f"/api/projects/{body['id']}", headers=team.keys["admin"], json={"name": "Relaunch"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Relaunch"
    assert renamed.json()["description"] == "Spring"
    detail = client.get(f"/api/organizations/{team.org.public_id}", headers=owner).json()
    assert detail["project_count"] == 1
    gone = client.delete(f"/api/projects/{body['id']}", headers=owner)
    assert gone.status_code == 200 and gone.json() == {"message": "Project deleted"}
    assert client.get(f"/api/projects/{body['id']}", headers=owner).status_code == 404


@pytest.mark.parametrize("role", ["billing_admin", "agent", "viewer"])
def test_other_roles_cannot_manage_projects(client: TestClient, team: Team, role):
    assert new_project(client, team.keys[role]).status_code == 403
    project_id = new_project(client, team.keys["owner"]).json()["id"]
    patch = client.patch(f"/api/projects/{project_id}", headers=team.keys[role], json={"name": "X"})
    assert patch.status_code == 403
    assert client.delete(f"/api/projects/{project_id}", headers=team.keys[role]).status_code == 403


def test_duplicate_and_bad_names_are_refused(client: TestClient, team: Team):
    owner = team.keys["owner"]
    assert new_project(client, owner).status_code == 201
    duplicate = new_project(client, owner, name="launch")
    assert duplicate.status_code == 409 and "already a project" in duplicate.json()["detail"]
    assert new_project(client, owner, name="").status_code == 422
    assert new_project(client, owner, name="x" * 81).status_code == 422
    assert client.get("/api/projects", headers=owner).json()["total"] == 1


def test_links_take_a_project_filter_by_it_and_move(client: TestClient, team: Team):
    owner = team.keys["owner"]
    project_id = new_project(client, owner).json()["id"]
    made = client.post(
        "/api/links",
        headers=team.keys["agent"],
        json={"target_url": "https://example.com/a", "project_id": project_id},
    )
    assert made.status_code == 201 and made.json()["project_id"] == project_id
    assert made.json()["pending_approval"] is False
    client.post("/api/links", headers=owner, json={"target_url": "https://example.com/b"})
    only = client.get(f"/api/links?project_id={project_id}", headers=owner).json()
    assert only["total"] == 1 and only["items"][0]["id"] == made.json()["id"]
    assert client.get("/api/links?project_id=0", headers=owner).json()["total"] == 1
    assert client.get(f"/api/projects/{project_id}", headers=owner).json()["link_count"] == 1
    moved = client.patch(
        f"/api/links/{made.json()['id']}", headers=owner, json={"project_id": None}
    )
    assert moved.status_code == 200 and moved.json()["project_id"] is None


def test_cross_organization_project_ids_are_refused(client: TestClient, team: Team):
    theirs = new_project(client, team.keys["other_owner"], name="Theirs").json()["id"]
    owner = team.keys["owner"]
    made = client.post(
        "/api/links",
        headers=owner,
        json={"target_url": "https://example.com/a", "project_id": theirs},
    )
    assert made.status_code == 404 and made.json()["detail"] == "Project not found."
    assert client.get(f"/api/links?project_id={theirs}", headers=owner).status_code == 404
    assert client.get(f"/api/projects/{theirs}", headers=owner).status_code == 404
    assert client.delete(f"/api/projects/{theirs}", headers=owner).status_code == 404
    assert (
        client.get(f"/api/projects/{theirs}", headers=team.keys["other_owner"]).status_code == 200
    )


def test_personal_keys_have_personal_projects(client: TestClient, session: Session):
    headers = bearer(session, make_user(session))
    made = new_project(client, headers)
    assert made.status_code == 201 and made.json()["organization_id"] == "org_personal"


def require_approval(session: Session, team: Team) -> None:
    org = session.get(Organization, team.org.id)
    org.require_approval_for_links = True
    session.add(org)
    session.commit()


def test_pending_links_are_marked_and_owner_admin_approve_or_reject(
    client: TestClient, team: Team, session: Session
):
    require_approval(session, team)
    first = client.post(
        "/api/links", headers=team.keys["agent"], json={"target_url": "https://example.com/1"}
    ).json()
    second = client.post(
        "/api/links",
        headers=team.keys["billing_admin"],
        json={"target_url": "https://example.com/2"},
    ).json()
    assert first["pending_approval"] and second["pending_approval"]
    assert client.get("/api/links/pending", headers=team.keys["agent"]).status_code == 403
    queue = client.get("/api/links/pending", headers=team.keys["admin"]).json()
    assert queue["total"] == 2 and queue["items"][0]["owner_email"] == "agent@example.com"
    assert client.get(f"/l/{first['slug']}", follow_redirects=False).status_code == 404
    denied = client.post(f"/api/links/{first['id']}/approve", headers=team.keys["agent"])
    assert denied.status_code == 403
    approved = client.post(f"/api/links/{first['id']}/approve", headers=team.keys["admin"])
    assert approved.status_code == 200 and approved.json()["pending_approval"] is False
    follow = client.get(f"/l/{first['slug']}", follow_redirects=False)
    assert follow.status_code == 302 and follow.headers["location"] == "https://example.com/1"
    rejected = client.post(
        f"/api/links/{second['id']}/reject", headers=team.keys["owner"], json={"reason": "No"}
    )
    assert rejected.status_code == 200 and rejected.json() == {"message": "Link rejected"}
    assert session.get(Link, second["id"]) is None
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "link_rejected")).one()
    assert mail.to_address == "billing_admin@example.com"
    # another organization's Owner cannot decide our links
    require_approval(session, team)
    third = client.post(
        "/api/links", headers=team.keys["agent"], json={"target_url": "https://example.com/3"}
    ).json()
    outsider = client.post(f"/api/links/{third['id']}/approve", headers=team.keys["other_owner"])
    assert outsider.status_code == 404
    assert (
        client.post(f"/api/links/{third['id']}/reject", headers=team.keys["owner"]).status_code
        == 200
    )


def test_openapi_documents_the_project_operations(client: TestClient):
    spec = client.get("/api/openapi.json").json()
    ops = {
        (path, method): op
        for path, methods in spec["paths"].items()
        if path.startswith("/api/projects")
        for method, op in methods.items()
    }
    assert len(ops) == 5
    for (path, method), op in ops.items():
        assert op["security"] == [{"ApiKey": []}], path
        success = next(code for code in op["responses"] if code.startswith("2"))
        assert "$ref" in op["responses"][success]["content"]["application/json"]["schema"]
        for code in ("401", "404", "422", "429"):
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)
        if method in ("post", "patch"):
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/")
    assert spec["components"]["schemas"]["ProjectCreate"]["properties"]["name"]["maxLength"] == 80
