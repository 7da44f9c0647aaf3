"""Projects (SPEC §14): one workspace each, unique names there, Owner/Admin manage
them in organizations, deleting keeps the links, other workspaces' ids read as missing."""

import pytest
from sqlmodel import Session, func, select

from orgportal.models import Link, Project, Role
from orgportal.services import links, organizations, projects
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.permissions import capabilities
from tests.factories import add_member, audit_actions, make_org, make_user


def link(session: Session, user, org_id, project_id=None, slug: str = "") -> Link:
    made = links.create_link(
        session,
        user=user,
        organization_id=org_id,
        target_url="https://example.com/x",
        slug=slug,
        project_id=project_id,
    )
    session.commit()
    return made


def test_owner_and_admin_manage_projects_and_each_change_is_audited(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    project = projects.create_project(
        session, user=owner, organization_id=org.id, name="  Spring Sale ", description="Q2"
    )
    assert (project.name, project.description, project.organization_id) == (
        "Spring Sale",
        "Q2",
        org.id,
    )
    projects.update_project(
        session, user=admin, organization_id=org.id, project_id=project.id, name="Summer Sale"
    )
    assert project.name == "Summer Sale" and project.description == "Q2"
    projects.delete_project(session, user=admin, organization_id=org.id, project_id=project.id)
    session.commit()
    assert session.get(Project, project.id) is None
    assert audit_actions(session, org.id)[-3:] == [
        "project.created",
        "project.renamed",
        "project.deleted",
    ]


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_other_roles_may_see_but_not_manage_projects(session: Session, role):
    owner = make_user(session)
    org = make_org(session, owner)
    member = add_member(session, org, role)
    project = projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    session.commit()
    with pytest.raises(PermissionDenied):
        projects.create_project(session, user=member, organization_id=org.id, name="Mine")
    with pytest.raises(PermissionDenied):
        projects.update_project(
            session, user=member, organization_id=org.id, project_id=project.id, name="X"
        )
    with pytest.raises(PermissionDenied):
        projects.delete_project(session, user=member, organization_id=org.id, project_id=project.id)
    found, total = projects.list_projects(session, user=member, organization_id=org.id)
    assert total == 1 and found[0].project.name == "Launch"
    assert not capabilities(session, member, org.id).manage_projects
    assert capabilities(session, owner, org.id).manage_projects


def test_names_are_unique_per_workspace_ignoring_case(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    other = make_org(session, owner, "Other Org")
    projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    with pytest.raises(Conflict, match="already a project called Launch"):
        projects.create_project(session, user=owner, organization_id=org.id, name="LAUNCH")
    # the same name is fine in another organization and in the Personal Workspace
    projects.create_project(session, user=owner, organization_id=other.id, name="Launch")
    projects.create_project(session, user=owner, organization_id=None, name="Launch")
    # and for another user's Personal Workspace
    projects.create_project(session, user=make_user(session), organization_id=None, name="Launch")
    session.commit()
    assert session.exec(select(func.count()).select_from(Project)).one() == 4


def test_renaming_to_a_taken_name_is_refused_but_a_case_change_is_not(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    second = projects.create_project(session, user=owner, organization_id=org.id, name="Sale")
    with pytest.raises(Conflict):
        projects.update_project(
            session, user=owner, organization_id=org.id, project_id=second.id, name="launch"
        )
    projects.update_project(
        session, user=owner, organization_id=org.id, project_id=second.id, name="SALE"
    )
    assert second.name == "SALE"


@pytest.mark.parametrize(
    "name, message",
    [("", "Project name is required."), ("x" * 81, "at most 80"), ("a\nb", "one line")],
)
def test_bad_names_are_refused(session: Session, name, message):
    owner = make_user(session)
    with pytest.raises(ValidationFailed) as refused:
        projects.create_project(session, user=owner, organization_id=None, name=name)
    assert message in refused.value.errors["name"]
    with pytest.raises(ValidationFailed) as long_description:
        projects.create_project(
            session, user=owner, organization_id=None, name="Fine", description="d" * 501
        )
    assert "description" in long_description.value.errors


def test_deleting_a_project_keeps_its_links(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    project = projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    session.commit()
    made = link(session, owner, org.id, project.id)
    assert made.project_id == project.id
    projects.delete_project(session, user=owner, organization_id=org.id, project_id=project.id)
    session.commit()
    session.refresh(made)
    assert made.project_id is None
    assert session.get(Link, made.id) is not None


def test_links_filter_by_project_and_move_between_projects(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    launch = projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    sale = projects.create_project(session, user=owner, organization_id=org.id, name="Sale")
    session.commit()
    first = link(session, agent, org.id, launch.id)
    link(session, agent, org.id)
    found, total = links.list_links(
        session, user=owner, organization_id=org.id, project_id=launch.id
    )
    assert total == 1 and found[0].id == first.id
    _, unassigned = links.list_links(
        session, user=owner, organization_id=org.id, project_id=links.NO_PROJECT
    )
    assert unassigned == 1
    links.set_link_project(
        session, user=agent, organization_id=org.id, link_id=first.id, project_id=sale.id
    )
    assert first.project_id == sale.id
    summaries, _ = projects.list_projects(session, user=owner, organization_id=org.id)
    assert [(s.project.name, s.link_count) for s in summaries] == [("Launch", 0), ("Sale", 1)]
    links.set_link_project(
        session, user=owner, organization_id=org.id, link_id=first.id, project_id=None
    )
    assert first.project_id is None


def test_only_the_creator_or_owner_admin_moves_a_link(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    other_agent = add_member(session, org, Role.AGENT)
    project = projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    session.commit()
    made = link(session, agent, org.id)
    with pytest.raises(PermissionDenied):
        links.set_link_project(
            session, user=other_agent, organization_id=org.id, link_id=made.id,
            project_id=project.id,
        )  # fmt: skip


def test_other_workspaces_project_ids_are_refused(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    stranger = make_user(session)
    other = make_org(session, stranger, "Other Org")
    theirs = projects.create_project(session, user=stranger, organization_id=other.id, name="X")
    personal = projects.create_project(session, user=owner, organization_id=None, name="Mine")
    session.commit()
    for project_id in (theirs.id, personal.id):  # another org's; the Personal Workspace's
        with pytest.raises(NotFound, match="Project not found"):
            link(session, owner, org.id, project_id)
    with pytest.raises(NotFound):
        projects.get_project(session, user=owner, organization_id=org.id, project_id=theirs.id)
    with pytest.raises(NotFound):
        projects.delete_project(session, user=owner, organization_id=org.id, project_id=theirs.id)
    with pytest.raises(NotFound):  # filtering by it tells nothing either
        links.list_links(session, user=owner, organization_id=org.id, project_id=theirs.id)
    # an outsider cannot reach the organization's projects at all
    with pytest.raises(NotFound):
        projects.list_projects(session, user=stranger, organization_id=org.id)
    made = link(session, owner, org.id)
    with pytest.raises(NotFound):
        links.set_link_project(
            session, user=owner, organization_id=org.id, link_id=made.id, project_id=theirs.id
        )
    assert session.get(Project, theirs.id).name == "X"


def test_personal_workspace_projects_are_the_users_own(session: Session):
    user = make_user(session)
    someone = make_user(session)
    mine = projects.create_project(session, user=user, organization_id=None, name="Mine")
    session.commit()
    assert capabilities(session, user, None).manage_projects
    with pytest.raises(NotFound):
        projects.get_project(session, user=someone, organization_id=None, project_id=mine.id)
    assert projects.list_projects(session, user=someone, organization_id=None)[1] == 0
    assert projects.project_choices(session, user=user, organization_id=None) == [(mine.id, "Mine")]


def test_project_count_and_names(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    a = projects.create_project(session, user=owner, organization_id=org.id, name="A")
    b = projects.create_project(session, user=owner, organization_id=org.id, name="B")
    session.commit()
    assert projects.project_count(session, org.id) == 2
    assert projects.project_names(session, [a.id, b.id, a.id]) == {a.id: "A", b.id: "B"}


def test_deleting_an_organization_deletes_its_projects(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    kept = projects.create_project(session, user=owner, organization_id=None, name="Mine")
    projects.create_project(session, user=owner, organization_id=org.id, name="Launch")
    session.commit()

    class NoBilling:
        def __getattr__(self, name):
            raise AssertionError(name)

    organizations.delete_organization(
        session, user=owner, organization_id=org.id, confirm_name=org.name, gateway=NoBilling()
    )
    session.commit()
    assert [p.id for p in session.exec(select(Project)).all()] == [kept.id]
