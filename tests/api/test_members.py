"""/api/organizations/{id}/members over HTTP: list, change role, remove (SPEC §3)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orgportal.models import Role
from orgportal.services.permissions import membership_of
from tests.api.conftest import Team


def members_url(team: Team, user_id: str | None = None) -> str:
    url = f"/api/organizations/{team.org.public_id}/members"
    return f"{url}/{user_id}" if user_id else url


def role_of(session: Session, team: Team, who: str) -> str | None:
    session.expire_all()
    membership = membership_of(session, team.users[who], team.org.id)
    return membership.role if membership else None


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_member_lists_members_in_pages(client: TestClient, team: Team, role):
    everyone = client.get(members_url(team), headers=team.keys[role])
    assert everyone.status_code == 200
    body = everyone.json()
    assert body["total"] == 5
    assert [m["role"] for m in body["items"]] == [
        "owner", "admin", "billing_admin", "agent", "viewer",
    ]  # fmt: skip
    assert body["items"][0] == {
        "user_id": team.users["owner"].public_id,
        "name": "Test User",
        "email": "owner@example.com",
        "role": "owner",
        "joined_at": body["items"][0]["joined_at"],
    }
    page = client.get(members_url(team) + "?limit=2&offset=2", headers=team.keys[role]).json()
    assert [m["role"] for m in page["items"]] == ["billing_admin", "agent"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_change_roles(client: TestClient, team: Team, session: Session, role):
    response = client.patch(
        members_url(team, team.users["agent"].public_id),
        headers=team.keys[role],
        json={"role": "viewer"},
    )
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    assert role_of(session, team, "agent") == "viewer"


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_others_cannot_change_roles(client: TestClient, team: Team, session: Session, who, status):
    response = client.patch(
        members_url(team, team.users["agent"].public_id),
        headers=team.keys[who],
        json={"role": "admin"},
    )
    assert response.status_code == status
    assert role_of(session, team, "agent") == "agent"


def test_nobody_grants_or_changes_the_owner_role(client: TestClient, team: Team, session: Session):
    grant = client.patch(
        members_url(team, team.users["admin"].public_id),
        headers=team.keys["owner"],
        json={"role": "owner"},
    )
    assert grant.status_code == 422 and "role" in grant.json()["errors"]
    demote = client.patch(
        members_url(team, team.users["owner"].public_id),
        headers=team.keys["admin"],
        json={"role": "viewer"},
    )
    assert demote.status_code == 403
    assert role_of(session, team, "owner") == "owner"
    nonsense = client.patch(
        members_url(team, team.users["agent"].public_id),
        headers=team.keys["owner"],
        json={"role": "god"},
    )
    assert nonsense.status_code == 422 and "role" in nonsense.json()["errors"]


def test_a_non_member_user_id_is_404(client: TestClient, team: Team):
    stranger = team.users["outsider"].public_id
    response = client.patch(
        members_url(team, stranger), headers=team.keys["owner"], json={"role": "viewer"}
    )
    assert response.status_code == 404
    assert client.delete(members_url(team, stranger), headers=team.keys["owner"]).status_code == 404
    unknown = members_url(team, "user_000000000000")  # well formed, nobody's
    assert client.delete(unknown, headers=team.keys["owner"]).json() == {
        "detail": "Member not found."
    }
    malformed = client.delete(members_url(team, "7"), headers=team.keys["owner"])
    assert malformed.status_code == 422 and "path.user_id" in malformed.json()["errors"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_remove_members(client: TestClient, team: Team, session: Session, role):
    response = client.delete(
        members_url(team, team.users["viewer"].public_id), headers=team.keys[role]
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Member removed"}
    assert role_of(session, team, "viewer") is None
    # the removed viewer's key no longer reaches the organization
    gone = client.get(f"/api/organizations/{team.org.public_id}", headers=team.keys["viewer"])
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_others_cannot_remove(client: TestClient, team: Team, session: Session, who, status):
    response = client.delete(
        members_url(team, team.users["admin"].public_id), headers=team.keys[who]
    )
    assert response.status_code == status
    assert role_of(session, team, "admin") == "admin"


def test_the_owner_is_never_removed(client: TestClient, team: Team, session: Session):
    response = client.delete(
        members_url(team, team.users["owner"].public_id), headers=team.keys["admin"]
    )
    assert response.status_code == 403
    assert role_of(session, team, "owner") == "owner"
