"""SPEC §3/§4 through the real Members page handlers (MembersState), driven with the router
data a websocket connection gives them: a crafted role label is refused with a field error
(never turned into Agent), and what the page offers comes from the service's capabilities."""

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import select

from orgportal import db, routes
from orgportal.models import Invite, Membership, Role
from orgportal.services import organizations
from orgportal.state.members import MembersState
from tests.factories import add_member, make_org, make_user, open_session


@pytest.fixture(autouse=True)
def app_database(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def members_page(session, user, org) -> MembersState:
    """The Members page's state as the websocket of `user`'s signed-in browser sees it."""
    raw, _ = open_session(session, user, org.id)
    session.commit()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"{routes.SESSION_COOKIE}={raw}", "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: routes.ORG_MEMBERS}, {}
    )
    return root.get_substate(MembersState.get_full_name().split(".")[1:])


def test_a_crafted_role_label_is_refused_and_never_becomes_agent(session):
    owner = make_user(session)
    org = make_org(session, owner)
    state = members_page(session, owner, org)

    state.send_invite({"email": "new@example.com", "role": "Superuser"})
    assert state.invite_errors == {"role": "“Superuser” is not a role. Choose one from the list."}
    assert session.exec(select(Invite)).all() == []

    state.send_invite({"email": "new@example.com", "role": "Owner"})  # a real role, not invitable
    assert "role" in state.invite_errors
    assert session.exec(select(Invite)).all() == []

    state.send_invite({"email": "new@example.com", "role": "Viewer"})
    assert state.invite_errors == {}
    assert [(i.email, i.role) for i in session.exec(select(Invite))] == [
        ("new@example.com", Role.VIEWER)
    ]
    assert [i.email for i in state.invites] == ["new@example.com"]  # reloaded in the same event


def test_a_crafted_role_label_cannot_change_a_members_role(session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    state = members_page(session, owner, org)

    state.change_role(viewer.id, "Agent ")  # not a label the page offers
    assert state.member_errors == {"role": "“Agent ” is not a role. Choose one from the list."}
    membership = session.exec(select(Membership).where(Membership.user_id == viewer.id)).one()
    session.refresh(membership)
    assert membership.role == Role.VIEWER

    state.change_role(viewer.id, "Billing Admin")
    assert state.member_errors == {}
    session.refresh(membership)
    assert membership.role == Role.BILLING_ADMIN
    assert [m.role for m in state.members if m.user_id == viewer.id] == ["Billing Admin"]


def test_what_the_page_offers_comes_from_the_capabilities(session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)

    as_owner = members_page(session, owner, org)
    as_owner.revoke(0)  # any event refreshes the viewer's capabilities (this one is refused)
    assert (as_owner.can_manage, as_owner.i_am_owner, as_owner.can_invite) == (True, True, True)
    assert as_owner.invite_role_labels == ["Admin", "Billing Admin", "Agent", "Viewer"]

    as_agent = members_page(session, agent, org)
    as_agent.send_invite({"email": "friend@example.com", "role": "Agent"})
    assert (as_agent.can_manage, as_agent.i_am_owner, as_agent.can_invite) == (False, False, False)
    assert "form" in as_agent.invite_errors  # the service refused: members may not invite

    organizations.update_settings(
        session,
        user=owner,
        organization_id=org.id,
        new=organizations.OrganizationSettings(allow_members_to_invite=True),
    )
    session.commit()
    as_agent.send_invite({"email": "friend@example.com", "role": "Agent"})
    assert as_agent.invite_errors == {}
    assert (as_agent.can_invite, as_agent.invite_role_labels) == (True, ["Agent"])
    assert not as_agent.can_manage
