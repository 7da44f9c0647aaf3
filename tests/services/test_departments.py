"""Departments: create, rename, delete (tickets survive), members in and out, and refusals."""

import pytest
from sqlmodel import Session, delete, select

from orgportal.models import Department, DepartmentMember, Membership, Role, Ticket
from orgportal.services import departments, members, tickets
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.support_settings import SupportSubscriptionRequired
from tests.factories import add_member, make_org, make_user
from tests.services.test_tickets import audit_actions, submit, subscribe_support


@pytest.fixture
def desk(session: Session):
    """An organization with the Support Subscription, its owner, and an agent."""
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    agent = add_member(session, org, Role.AGENT)
    return owner, org, agent


def names(session: Session, user, org) -> list[str]:
    return [
        d.name for d in departments.list_departments(session, user=user, organization_id=org.id)
    ]


def test_create_rename_delete_are_audited(session: Session, desk):
    owner, org, agent = desk
    billing = departments.create_department(
        session, user=owner, organization_id=org.id, name=" Billing "
    )
    departments.create_department(session, user=owner, organization_id=org.id, name="accounts")
    departments.rename_department(
        session, user=owner, organization_id=org.id, department_id=billing.id, name="Payments"
    )
    session.commit()
    assert names(session, agent, org) == ["accounts", "Payments"]  # agents can read them

    departments.delete_department(
        session, user=owner, organization_id=org.id, department_id=billing.id
    )
    session.commit()
    assert names(session, owner, org) == ["accounts"]
    assert [a for a in audit_actions(session, org.id) if a.startswith("support.department")] == [
        "support.department_created",
        "support.department_created",
        "support.department_renamed",
        "support.department_deleted",
    ]


def test_names_are_required_short_and_unique_ignoring_case(session: Session, desk):
    owner, org, _ = desk
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    other = departments.create_department(session, user=owner, organization_id=org.id, name="Ops")
    session.commit()
    for bad in ("", "   ", "x" * 61, "SALES"):
        with pytest.raises(ValidationFailed) as refused:
            departments.create_department(session, user=owner, organization_id=org.id, name=bad)
        assert "name" in refused.value.errors
    with pytest.raises(ValidationFailed, match="already a department called Sales"):
        departments.rename_department(
            session, user=owner, organization_id=org.id, department_id=other.id, name="sales"
        )
    departments.rename_department(  # a change of case of its own name is fine
        session, user=owner, organization_id=org.id, department_id=sales.id, name="SALES"
    )
    session.commit()
    assert names(session, owner, org) == ["Ops", "SALES"]


def test_tickets_keep_working_when_their_department_is_deleted(session: Session, desk):
    owner, org, agent = desk
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    ticket = submit(session, org)
    tickets.assign_department(
        session, user=agent, organization_id=org.id, ticket_id=ticket.id, department_id=sales.id
    )
    session.commit()
    page = tickets.list_tickets(session, user=agent, organization_id=org.id, department_id=sales.id)
    assert [t.number for t in page.tickets] == ["TKT-001"]

    departments.delete_department(
        session, user=owner, organization_id=org.id, department_id=sales.id
    )
    session.commit()
    session.expire_all()
    assert session.get(Ticket, ticket.id).department_id is None
    page = tickets.list_tickets(session, user=agent, organization_id=org.id, unassigned=True)
    assert [t.number for t in page.tickets] == ["TKT-001"]
    tickets.reply(session, user=agent, organization_id=org.id, ticket_id=ticket.id, body="Still ok")
    session.commit()


def test_assign_and_unassign_members(session: Session, desk):
    owner, org, agent = desk
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    outsider = make_user(session)
    departments.assign_member(
        session, user=owner, organization_id=org.id, department_id=sales.id, member_id=agent.id
    )
    departments.assign_member(
        session, user=owner, organization_id=org.id, department_id=sales.id, member_id=owner.id
    )
    session.commit()
    [view] = departments.list_departments(session, user=owner, organization_id=org.id)
    assert {m.email for m in view.members} == {agent.email, owner.email}

    with pytest.raises(Conflict, match="already in Sales"):
        departments.assign_member(
            session, user=owner, organization_id=org.id, department_id=sales.id, member_id=agent.id
        )
    with pytest.raises(NotFound):  # not a member of this organization
        departments.assign_member(
            session,
            user=owner,
            organization_id=org.id,
            department_id=sales.id,
            member_id=outsider.id,
        )
    departments.unassign_member(
        session, user=owner, organization_id=org.id, department_id=sales.id, member_id=agent.id
    )
    session.commit()
    [view] = departments.list_departments(session, user=owner, organization_id=org.id)
    assert [m.email for m in view.members] == [owner.email]
    with pytest.raises(NotFound):
        departments.unassign_member(
            session, user=owner, organization_id=org.id, department_id=sales.id, member_id=agent.id
        )
    actions = audit_actions(session, org.id)
    assert actions.count("support.department_member_added") == 2
    assert actions.count("support.department_member_removed") == 1


def test_the_picker_searches_members_on_the_server_and_assigns_by_email(
    session: Session, desk
):
    owner, org, agent = desk
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    grace = make_user(session, "grace.hopper@example.com")
    grace.first_name, grace.last_name = "Grace", "Hopper"
    add_member(session, org, Role.VIEWER, grace)
    make_user(session, "grace.outsider@example.com")  # not a member: never suggested
    for n in range(15):
        add_member(session, org, Role.AGENT, make_user(session, f"many-{n}@example.com"))

    def found(query: str) -> list[str]:
        people = members.search_members(session, user=owner, organization_id=org.id, query=query)
        return [p.email for p in people]

    assert found("GRACE") == ["grace.hopper@example.com"]  # by email, any case
    assert found("ace hop") == ["grace.hopper@example.com"]  # by full name
    assert found("") == []
    assert found("%") == []  # LIKE wildcards are matched literally
    assert len(found("many-")) == members.SEARCH_LIMIT  # a page of suggestions, not everyone

    departments.assign_member_by_email(
        session,
        user=owner,
        organization_id=org.id,
        department_id=sales.id,
        email=" Grace.Hopper@example.com ",
    )
    session.commit()
    [view] = departments.list_departments(session, user=owner, organization_id=org.id)
    assert [m.email for m in view.members] == ["grace.hopper@example.com"]
    for email in ("grace.outsider@example.com", "nobody@example.com", ""):
        with pytest.raises(ValidationFailed, match="member of this organization"):
            departments.assign_member_by_email(
                session, user=owner, organization_id=org.id, department_id=sales.id, email=email
            )
    with pytest.raises(PermissionDenied):  # an Agent may not manage departments
        departments.assign_member_by_email(
            session, user=agent, organization_id=org.id, department_id=sales.id, email=owner.email
        )
    other_owner = make_user(session)
    make_org(session, other_owner, "Elsewhere")
    with pytest.raises(NotFound):  # another organization's members are not searchable
        members.search_members(session, user=other_owner, organization_id=org.id, query="grace")


def test_people_who_left_are_not_listed_in_departments(session: Session, desk):
    owner, org, agent = desk
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    departments.assign_member(
        session, user=owner, organization_id=org.id, department_id=sales.id, member_id=agent.id
    )
    session.commit()
    session.exec(delete(Membership).where(Membership.user_id == agent.id))
    session.commit()
    [view] = departments.list_departments(session, user=owner, organization_id=org.id)
    assert view.members == []


def test_only_owner_and_admin_with_the_subscription_manage_departments(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    agent = add_member(session, org, Role.AGENT)
    stranger = make_user(session)
    theirs = make_org(session, stranger, "Stranger Org")

    with pytest.raises(SupportSubscriptionRequired):
        departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    subscribe_support(session, owner, org)
    with pytest.raises(PermissionDenied):
        departments.create_department(session, user=agent, organization_id=org.id, name="Sales")
    with pytest.raises(NotFound):
        departments.create_department(session, user=stranger, organization_id=org.id, name="X")
    sales = departments.create_department(session, user=admin, organization_id=org.id, name="Sales")
    session.commit()
    with pytest.raises(PermissionDenied):
        departments.delete_department(
            session, user=agent, organization_id=org.id, department_id=sales.id
        )
    subscribe_support(session, stranger, theirs)
    with pytest.raises(NotFound):  # their own org, my department: still not found
        departments.delete_department(
            session, user=stranger, organization_id=theirs.id, department_id=sales.id
        )
    assert session.exec(select(Department)).all() == [sales]
    assert session.exec(select(DepartmentMember)).all() == []
