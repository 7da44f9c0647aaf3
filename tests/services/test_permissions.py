"""The role table of SPEC §3, row by row, and the rules on items of a workspace built on it."""

import pytest

from orgportal.models import Link, Role
from orgportal.services import links
from orgportal.services.errors import NotFound, PermissionDenied
from orgportal.services.permissions import Permission as P
from orgportal.services.permissions import (
    has_permission,
    in_workspace,
    organization_row,
    require_changeable,
    require_readable,
)
from tests.factories import add_member, make_org, make_user

OW, A, B, G, V = Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER
SPEC = {
    P.VIEW: {OW, A, B, G, V},
    P.VIEW_BILLING: {OW, A, B, G, V},  # keys: only with the "Billing (read)" scope
    P.EDIT_ORGANIZATION: {OW, A},
    P.MANAGE_MEMBERS: {OW, A},
    P.MANAGE_BILLING: {OW, B},
    P.MANAGE_SUPPORT: {OW, A},
    P.HANDLE_TICKETS: {OW, A, G},
    P.CREATE_ITEMS: {OW, A, B, G},
    P.VIEW_AUDIT_LOG: {OW, A},
    P.DELETE_ORGANIZATION: {OW},
    P.TRANSFER_OWNERSHIP: {OW},
}


@pytest.mark.parametrize("permission", list(P))
def test_role_table_matches_spec(permission):
    allowed = {role for role in Role if has_permission(role, permission)}
    assert allowed == SPEC[permission]


# --- items of a workspace: who may read, who may change -----------------------------------


@pytest.fixture
def team(session):
    owner = make_user(session)
    org = make_org(session, owner)
    return org, owner, add_member(session, org, Role.AGENT), add_member(session, org, Role.VIEWER)


def _link(session, user, org_id=None):
    link = links.create_link(
        session, user=user, organization_id=org_id, target_url="https://example.com"
    )
    session.commit()
    return link


def test_readable_items_are_the_users_own_or_their_organizations(session, team):
    org, owner, agent, viewer = team
    personal = _link(session, agent)
    shared = _link(session, agent, org.id)
    assert require_readable(session, agent, personal, "gone") is personal
    assert require_readable(session, viewer, shared, "gone") is shared


def test_anything_else_reads_as_missing(session, team):
    org, owner, agent, _ = team
    personal = _link(session, agent)
    shared = _link(session, agent, org.id)
    stranger = make_user(session)
    for user, item in [(owner, personal), (stranger, shared), (stranger, None)]:
        with pytest.raises(NotFound) as refused:
            require_readable(session, user, item, "Thing not found.")
        assert refused.value.message == "Thing not found."


def test_in_workspace_matches_the_organization_or_the_owners_personal_items(session, team):
    org, owner, agent, _ = team
    personal = _link(session, agent)
    shared = _link(session, agent, org.id)
    assert in_workspace(shared, owner, org.id) and in_workspace(personal, agent, None)
    assert not in_workspace(personal, owner, None) and not in_workspace(shared, agent, None)


def test_the_creator_owner_and_admins_may_change_an_item(session, team):
    org, owner, agent, _ = team
    shared = _link(session, agent, org.id)
    for user in (agent, owner):
        found = require_changeable(
            session, user, org.id, Link, shared.id, missing="gone", denied="no"
        )
        assert found.id == shared.id
    mine = _link(session, agent)
    assert require_changeable(session, agent, None, Link, mine.id, missing="gone", denied="no")


def test_changing_refuses_other_members_and_reads_other_workspaces_as_missing(session, team):
    org, owner, agent, viewer = team
    shared = _link(session, agent, org.id)
    personal = _link(session, agent)
    with pytest.raises(PermissionDenied) as denied:
        require_changeable(session, viewer, org.id, Link, shared.id, missing="gone", denied="no")
    assert denied.value.message == "no"
    for user, workspace, link_id in [
        (owner, None, personal.id),  # someone else's personal link
        (agent, None, shared.id),  # the organization's link from the Personal Workspace
        (owner, org.id, personal.id),
        (owner, org.id, 10**6),
    ]:
        with pytest.raises(NotFound) as missing:
            require_changeable(session, user, workspace, Link, link_id, missing="gone", denied="no")
        assert missing.value.message == "gone"
    with pytest.raises(NotFound):  # a non-member: the workspace itself is refused first
        require_changeable(
            session, make_user(session), org.id, Link, shared.id, missing="gone", denied="no"
        )


def test_an_organization_row_is_found_only_in_its_own_organization(session, team):
    org, owner, agent, _ = team
    other = make_org(session, make_user(session), "Other Org")
    shared = _link(session, agent, org.id)
    assert organization_row(session, Link, shared.id, org.id, "gone") is shared
    for row_id, organization_id in [(shared.id, other.id), (shared.id, None), (10**6, org.id)]:
        with pytest.raises(NotFound) as missing:
            organization_row(session, Link, row_id, organization_id, "Link not found.")
        assert missing.value.message == "Link not found."
