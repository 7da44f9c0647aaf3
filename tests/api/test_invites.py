"""/api/organizations/{id}/invites over HTTP: create, list, resend, revoke (SPEC §4)."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orgportal.models import Invite, InviteStatus, Organization, OutboxMessage, Subscription
from orgportal.models.base import utcnow
from orgportal.services import invitations
from tests.api.conftest import Team


def invites_url(org_id: str, suffix: str = "") -> str:
    return f"/api/organizations/{org_id}/invites{suffix}"


def invite(client: TestClient, team: Team, who: str, email: str, role: str = "agent"):
    return client.post(
        invites_url(team.org.public_id), headers=team.keys[who], json={"email": email, "role": role}
    )


def seed_invite(session: Session, team: Team, email: str = "new@example.com") -> Invite:
    """An invite sent by the Owner through the service, as the page would."""
    found = invitations.create_invite(
        session, user=team.users["owner"], organization_id=team.org.id, email=email, role="viewer"
    )
    session.commit()
    return found


@pytest.fixture
def roomy(session: Session, team: Team) -> Team:
    """The team's organization on Unlimited seats, so invites are about roles, not seats."""
    session.add(
        Subscription(organization_id=team.org.id, kind="plan", plan_key="unlimited",
                     status="active", stripe_subscription_id="sub_api_tests", interval="monthly")
    )  # fmt: skip
    session.commit()
    return team


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_and_admin_invite_and_the_mail_is_queued(
    client: TestClient, roomy: Team, session: Session, who
):
    response = invite(client, roomy, who, "  New.Person@Example.com ", "billing_admin")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "billing_admin" and body["status"] == "pending"
    assert "token" not in str(body).lower()
    mails = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == body["email"])
    ).all()
    assert len(mails) == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_others_cannot_invite(client: TestClient, roomy: Team, session: Session, who, status):
    assert invite(client, roomy, who, "x@example.com").status_code == status
    assert session.exec(select(func.count()).select_from(Invite)).one() == 0


def test_agents_invite_agents_only_when_the_setting_allows(
    client: TestClient, roomy: Team, session: Session
):
    org = session.get(Organization, roomy.org.id)
    org.allow_members_to_invite = True
    session.add(org)
    session.commit()
    assert invite(client, roomy, "agent", "helper@example.com", "agent").status_code == 201
    assert invite(client, roomy, "agent", "boss@example.com", "admin").status_code == 403


def test_refusals_name_the_problem(client: TestClient, roomy: Team):
    bad = invite(client, roomy, "owner", "not-an-email")
    assert bad.status_code == 422 and "email" in bad.json()["errors"]
    member = invite(client, roomy, "owner", "viewer@example.com")
    assert member.status_code == 409 and "already a member" in member.json()["detail"]
    assert invite(client, roomy, "owner", "twice@example.com").status_code == 201
    again = invite(client, roomy, "owner", "twice@example.com")
    assert again.status_code == 409 and "Resend" in again.json()["detail"]
    owner_role = invite(client, roomy, "owner", "o@example.com", "owner")
    assert owner_role.status_code == 422


def test_no_free_seat_is_409(client: TestClient, team: Team):
    response = invite(client, team, "owner", "sixth@example.com")  # Free plan: 3 seats, 5 used
    assert response.status_code == 409
    assert response.json()["detail"].startswith("No seats available")


def test_every_member_lists_pending_invites_in_pages(
    client: TestClient, roomy: Team, session: Session
):
    for n in range(3):
        seed_invite(session, roomy, f"p{n}@example.com")
    listed = client.get(invites_url(roomy.org.public_id, "?limit=2"), headers=roomy.keys["viewer"])
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert {i["status"] for i in body["items"]} == {"pending"}


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_resend_revives_an_expired_invite(client: TestClient, roomy: Team, session: Session, who):
    sent = seed_invite(session, roomy)
    sent.expires_at = utcnow() - timedelta(days=1)
    session.add(sent)
    session.commit()
    listed = client.get(invites_url(roomy.org.public_id), headers=roomy.keys[who]).json()
    assert listed["items"][0]["status"] == "expired"
    response = client.post(
        invites_url(roomy.org.public_id, f"/{sent.id}/resend"), headers=roomy.keys[who]
    )
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    session.expire_all()
    assert session.get(Invite, sent.id).expires_at > utcnow() + timedelta(days=6)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_revoke(client: TestClient, roomy: Team, session: Session, who):
    sent = seed_invite(session, roomy)
    response = client.delete(
        invites_url(roomy.org.public_id, f"/{sent.id}"), headers=roomy.keys[who]
    )
    assert response.status_code == 200 and response.json() == {"message": "Invite revoked"}
    session.expire_all()
    assert session.get(Invite, sent.id).status == InviteStatus.REVOKED
    again = client.delete(invites_url(roomy.org.public_id, f"/{sent.id}"), headers=roomy.keys[who])
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing_admin", 403), ("agent", 403), ("viewer", 403), ("outsider", 404)],
)
def test_others_cannot_resend_or_revoke(
    client: TestClient, roomy: Team, session: Session, who, status
):
    sent = seed_invite(session, roomy)
    resend = client.post(
        invites_url(roomy.org.public_id, f"/{sent.id}/resend"), headers=roomy.keys[who]
    )
    revoke = client.delete(invites_url(roomy.org.public_id, f"/{sent.id}"), headers=roomy.keys[who])
    assert (resend.status_code, revoke.status_code) == (status, status)
    session.expire_all()
    assert session.get(Invite, sent.id).status == InviteStatus.PENDING


def test_another_organizations_invite_id_is_404(client: TestClient, roomy: Team, session: Session):
    """The Other Org's owner asks about Acme's invite through Other Org: not found."""
    sent = seed_invite(session, roomy)
    theirs = roomy.keys["other_owner"]
    other = roomy.other_org.public_id
    assert client.post(invites_url(other, f"/{sent.id}/resend"), headers=theirs).status_code == 404
    assert client.delete(invites_url(other, f"/{sent.id}"), headers=theirs).status_code == 404
    session.expire_all()
    assert session.get(Invite, sent.id).status == InviteStatus.PENDING
