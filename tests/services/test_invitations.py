"""Invitations: refusals, seat limit, tokens, the accept cases and their audit trail."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal import security
from orgportal.models import AuditEvent, Invite, InviteStatus, Membership, OutboxMessage, Role
from orgportal.models.base import utcnow
from orgportal.services import accounts, invitations
from orgportal.services.errors import (
    Conflict,
    InviteUnusable,
    NoSeatsAvailable,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.conftest import PG_URL
from tests.factories import PASSWORD, add_member, make_org, make_user, open_session


def invite(session, owner, org, email="new@example.com", role=Role.AGENT) -> str:
    """Send an invite and return the raw token, read from the mail as the invitee would."""
    invitations.create_invite(session, user=owner, organization_id=org.id, email=email, role=role)
    session.commit()
    mail = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == email.lower())
        .order_by(OutboxMessage.id.desc())
    ).first()
    return mail.link.rsplit("/", 1)[-1]


def viewer_for(session, user):
    raw, _ = open_session(session, user)
    session.commit()
    return accounts.authenticate(session, raw)


@pytest.fixture
def owner_org(session):
    owner = make_user(session, "owner@example.com")
    return owner, make_org(session, owner)


def test_invite_sends_mail_with_a_hashed_seven_day_token(session, owner_org):
    owner, org = owner_org
    token = invite(session, owner, org, "New@Example.com")
    row = session.exec(select(Invite)).one()
    assert row.email == "new@example.com" and row.token_hash == security.token_hash(token)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
    assert "member.invited" in [e.action for e in session.exec(select(AuditEvent))]
    mail = session.exec(select(OutboxMessage)).one()
    assert (mail.organization_id, mail.kind) == (org.id, "invite")  # a failure is shown to org


def test_invite_refusals(session, owner_org):
    owner, org = owner_org
    with pytest.raises(ValidationFailed):
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="nope", role="agent"
        )
    with pytest.raises(ValidationFailed):
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="x@example.com", role="owner"
        )
    with pytest.raises(Conflict, match="already a member"):
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="OWNER@example.com", role="agent"
        )
    session.rollback()
    invite(session, owner, org, "dup@example.com")
    with pytest.raises(invitations.AlreadyInvited, match="Resend"):
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="dup@example.com", role="viewer"
        )


def test_seat_limit_counts_members_and_pending_invites(session, owner_org):
    owner, org = owner_org  # Free plan: 3 seats, the owner uses one
    invite(session, owner, org, "a@example.com")
    invite(session, owner, org, "b@example.com")
    with pytest.raises(NoSeatsAvailable) as refused:
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="c@example.com", role="agent"
        )
    assert refused.value.message.startswith(
        "No seats available: the Free plan allows 3 members."
    )  # no support subscription: the plan sets the limit, and the message says so
    session.rollback()
    first = session.exec(select(Invite).where(Invite.email == "a@example.com")).one()
    invitations.revoke_invite(session, user=owner, organization_id=org.id, invite_id=first.id)
    session.commit()
    invite(session, owner, org, "c@example.com")


def test_expired_invites_free_their_seat_and_do_not_block_reinviting(session, owner_org):
    owner, org = owner_org
    invite(session, owner, org, "late@example.com")
    row = session.exec(select(Invite)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    assert [
        i.is_expired()
        for i in invitations.list_invites(session, user=owner, organization_id=org.id)
    ] == [True]
    invite(session, owner, org, "late@example.com")
    invite(session, owner, org, "other@example.com")


def test_resend_extends_expiry_and_replaces_the_link(session, owner_org):
    owner, org = owner_org
    old = invite(session, owner, org)
    row = session.exec(select(Invite)).one()
    row.expires_at = utcnow() - timedelta(days=1)
    session.add(row)
    session.commit()
    invitations.resend_invite(session, user=owner, organization_id=org.id, invite_id=row.id)
    session.commit()
    new = (
        session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        .first()
        .link.rsplit("/", 1)[-1]
    )
    assert new != old
    assert session.get(Invite, row.id).expires_at > utcnow() + timedelta(days=6)
    assert invitations.inspect_invite(session, new).email == "new@example.com"
    with pytest.raises(InviteUnusable) as err:
        invitations.inspect_invite(session, old)
    assert err.value.reason == "invalid"


def test_revoked_expired_declined_and_used_tokens_say_which(session, owner_org):
    owner, org = owner_org
    user = make_user(session, "new@example.com")
    viewer = viewer_for(session, user)

    token = invite(session, owner, org)
    invitations.decline_invite(session, viewer=viewer, token=token)
    session.commit()
    with pytest.raises(InviteUnusable) as err:
        invitations.accept_invite(session, viewer=viewer, token=token)
    assert err.value.reason == "declined"

    token = invite(session, owner, org)
    invitations.revoke_invite(
        session,
        user=owner,
        organization_id=org.id,
        invite_id=session.exec(select(Invite).where(Invite.status == "pending")).one().id,
    )
    session.commit()
    with pytest.raises(InviteUnusable) as err:
        invitations.accept_invite(session, viewer=viewer, token=token)
    assert err.value.reason == "revoked"

    token = invite(session, owner, org)
    pending = session.exec(select(Invite).where(Invite.status == "pending")).one()
    pending.expires_at = utcnow() - timedelta(seconds=1)
    session.add(pending)
    session.commit()
    with pytest.raises(InviteUnusable) as err:
        invitations.accept_invite(session, viewer=viewer, token=token)
    assert err.value.reason == "expired"
    session.rollback()
    assert session.exec(select(Membership).where(Membership.user_id == user.id)).all() == []


def test_accepting_twice_creates_one_membership(session, owner_org):
    owner, org = owner_org
    viewer = viewer_for(session, make_user(session, "new@example.com"))
    token = invite(session, owner, org, role=Role.VIEWER)
    assert invitations.accept_invite(session, viewer=viewer, token=token) == org.id
    session.commit()
    with pytest.raises(InviteUnusable) as err:
        invitations.accept_invite(session, viewer=viewer, token=token)
    assert err.value.reason == InviteStatus.ACCEPTED
    session.rollback()
    [membership] = session.exec(
        select(Membership).where(Membership.user_id == viewer.user.id)
    ).all()
    assert membership.role == Role.VIEWER
    assert viewer.session.active_org_id == org.id


def test_email_mismatch_cannot_accept_or_decline(session, owner_org):
    owner, org = owner_org
    token = invite(session, owner, org, "invitee@example.com")
    intruder = viewer_for(session, make_user(session, "intruder@example.com"))
    with pytest.raises(PermissionDenied, match="invitee@example.com"):
        invitations.accept_invite(session, viewer=intruder, token=token)
    with pytest.raises(PermissionDenied):
        invitations.decline_invite(session, viewer=intruder, token=token)


def test_new_user_gets_the_invited_email_whatever_is_posted(session, owner_org):
    owner, org = owner_org
    token = invite(session, owner, org, "invitee@example.com", Role.ADMIN)
    user, org_id = invitations.accept_as_new_user(
        session, token=token, password=PASSWORD, first_name="In", last_name="Vitee"
    )
    session.commit()
    assert (user.email, org_id) == ("invitee@example.com", org.id)
    assert user.email_confirmed_at is not None
    assert (
        session.exec(select(Membership).where(Membership.user_id == user.id)).one().role
        == Role.ADMIN
    )
    with pytest.raises(ValidationFailed):
        invitations.accept_as_new_user(
            session,
            token=invite(session, owner, org, "b@example.com"),
            password="short",
            first_name="B",
            last_name="B",
        )


def test_crafted_calls_from_other_organizations_and_low_roles_are_refused(session, owner_org):
    owner, org = owner_org
    invite(session, owner, org, "pending@example.com")
    pending = session.exec(select(Invite)).one()
    other = make_org(session, make_user(session), "Other")
    other_admin = add_member(session, other, Role.ADMIN)
    with pytest.raises(NotFound):
        invitations.create_invite(
            session, user=other_admin, organization_id=org.id, email="x@example.com", role="admin"
        )
    with pytest.raises(NotFound):
        invitations.revoke_invite(
            session, user=other_admin, organization_id=org.id, invite_id=pending.id
        )
    with pytest.raises(NotFound):  # their own org id, our invite id
        invitations.revoke_invite(
            session, user=other_admin, organization_id=other.id, invite_id=pending.id
        )
    agent = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        invitations.create_invite(
            session, user=agent, organization_id=org.id, email="y@example.com", role="agent"
        )
    with pytest.raises(PermissionDenied):
        invitations.resend_invite(session, user=agent, organization_id=org.id, invite_id=pending.id)


def test_agents_may_invite_agents_when_the_setting_allows(session, owner_org):
    owner, org = owner_org
    agent = add_member(session, org, Role.AGENT)
    org.allow_members_to_invite = True
    session.add(org)
    session.commit()
    with pytest.raises(PermissionDenied):
        invitations.create_invite(
            session, user=agent, organization_id=org.id, email="adm@example.com", role="admin"
        )
    invitations.create_invite(
        session, user=agent, organization_id=org.id, email="agent2@example.com", role="agent"
    )


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_twenty_parallel_invites_never_pass_the_seat_limit(engine, session):
    owner = make_user(session)
    org = make_org(session, owner)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                invitations.create_invite(
                    own, user=owner, organization_id=org.id, email=f"p{n}@example.com", role="agent"
                )
                own.commit()
                outcomes.append("ok")
            except NoSeatsAvailable:
                outcomes.append("full")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 2 and outcomes.count("full") == 18
    assert len(session.exec(select(Invite)).all()) == 2
