"""Members: role changes, removal, ownership transfer and leaving, with the Owner/Admin rules."""

import pytest
from sqlmodel import select

from orgportal.models import AuditEvent, Membership, Role
from orgportal.services import members
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import add_member, make_org, make_user


@pytest.fixture
def team(session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    agent = add_member(session, org, Role.AGENT)
    return org, owner, admin, agent


def role_of(session, org, user):
    return (
        session.exec(
            select(Membership).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        )
        .one()
        .role
    )


def test_list_members_shows_name_email_role_joined(session, team):
    org, owner, admin, agent = team
    listed = members.list_members(session, user=agent, organization_id=org.id)
    assert [(m.email, m.role) for m in listed] == [
        (owner.email, Role.OWNER),
        (admin.email, Role.ADMIN),
        (agent.email, Role.AGENT),
    ]


def test_admin_changes_roles_but_never_to_or_of_the_owner(session, team):
    org, owner, admin, agent = team
    members.change_role(
        session, user=admin, organization_id=org.id, member_id=agent.id, role="viewer"
    )
    session.commit()
    assert role_of(session, org, agent) == Role.VIEWER
    with pytest.raises(ValidationFailed):
        members.change_role(
            session, user=admin, organization_id=org.id, member_id=agent.id, role="owner"
        )
    with pytest.raises(PermissionDenied):
        members.change_role(
            session, user=admin, organization_id=org.id, member_id=owner.id, role="viewer"
        )
    with pytest.raises(PermissionDenied):
        members.remove_member(session, user=admin, organization_id=org.id, member_id=owner.id)
    with pytest.raises(PermissionDenied):
        members.change_role(
            session, user=agent, organization_id=org.id, member_id=admin.id, role="viewer"
        )
    assert "member.role_changed" in [e.action for e in session.exec(select(AuditEvent))]


def test_remove_member_and_refusals(session, team):
    org, owner, admin, agent = team
    with pytest.raises(PermissionDenied):
        members.remove_member(session, user=agent, organization_id=org.id, member_id=admin.id)
    with pytest.raises(Conflict):
        members.remove_member(session, user=admin, organization_id=org.id, member_id=admin.id)
    members.remove_member(session, user=admin, organization_id=org.id, member_id=agent.id)
    session.commit()
    with pytest.raises(NotFound):
        members.list_members(session, user=agent, organization_id=org.id)


def test_transfer_ownership_keeps_exactly_one_owner(session, team):
    org, owner, admin, agent = team
    with pytest.raises(PermissionDenied):
        members.transfer_ownership(session, user=admin, organization_id=org.id, member_id=admin.id)
    members.transfer_ownership(session, user=owner, organization_id=org.id, member_id=agent.id)
    session.commit()
    assert (role_of(session, org, owner), role_of(session, org, agent)) == (Role.ADMIN, Role.OWNER)
    owners = session.exec(select(Membership).where(Membership.role == Role.OWNER)).all()
    assert len(owners) == 1


def test_members_leave_but_the_owner_must_transfer_first(session, team):
    org, owner, admin, agent = team
    with pytest.raises(Conflict, match="Transfer ownership"):
        members.leave(session, user=owner, organization_id=org.id)
    members.leave(session, user=agent, organization_id=org.id)
    session.commit()
    assert len(members.list_members(session, user=owner, organization_id=org.id)) == 2


def test_other_organizations_admin_is_refused(session, team):
    org, owner, admin, agent = team
    other_admin = add_member(session, make_org(session, make_user(session), "Other"), Role.ADMIN)
    with pytest.raises(NotFound):
        members.remove_member(session, user=other_admin, organization_id=org.id, member_id=agent.id)
    with pytest.raises(NotFound):
        members.list_members(session, user=other_admin, organization_id=org.id)


def test_members_are_read_a_page_at_a_time_searched_and_sorted_in_the_database(session, team):
    org, owner, admin, agent = team
    for n in range(30):
        person = make_user(session, f"zz-{n:02d}@example.com")
        person.first_name, person.last_name = "Zed", f"Number {n:02d}"
        add_member(session, org, Role.VIEWER, person)

    first, total = members.page_members(session, user=agent, organization_id=org.id, limit=25)
    assert (len(first), total) == (25, 33)
    assert first[0].email == owner.email  # oldest first by default
    rest, _ = members.page_members(
        session, user=agent, organization_id=org.id, limit=25, offset=25
    )
    assert len(rest) == 8
    assert {m.user_id for m in first}.isdisjoint({m.user_id for m in rest})

    found, total = members.page_members(
        session, user=agent, organization_id=org.id, query="NUMBER 1", limit=5
    )
    assert total == 10 and len(found) == 5  # "Zed Number 10" … "Zed Number 19", by name
    by_email, _ = members.page_members(
        session, user=agent, organization_id=org.id, sort="email", limit=None
    )
    assert [m.email for m in by_email] == sorted(m.email.lower() for m in by_email)
    by_role, _ = members.page_members(
        session, user=agent, organization_id=org.id, sort="role", limit=3
    )
    assert [m.role for m in by_role] == [Role.OWNER, Role.ADMIN, Role.AGENT]  # by rank
    assert members.page_members(
        session, user=agent, organization_id=org.id, query="100%", limit=5
    ) == ([], 0)
    outsider = make_user(session)
    with pytest.raises(NotFound):
        members.page_members(session, user=outsider, organization_id=org.id)
