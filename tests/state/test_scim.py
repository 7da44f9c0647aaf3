"""SPEC §16 through the real SCIM card handlers (ScimState), driven as a websocket would:
an Owner on Unlimited generates a token shown once in this tab and revokes it; a crafted
Generate from a Viewer, or on a lower plan, makes no token."""

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import select

from orgportal import db, routes
from orgportal.models import Role, ScimToken, Subscription
from orgportal.services import scim_tokens
from orgportal.services.errors import NotAuthenticated
from orgportal.state.scim import ScimState
from tests.factories import add_member, make_org, make_user, open_session


@pytest.fixture(autouse=True)
def app_database(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def settings_page(session, user, org) -> ScimState:
    raw, _ = open_session(session, user, org.id)
    session.commit()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"{routes.SESSION_COOKIE}={raw}", "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: routes.ORG_SETTINGS}, {}
    )
    return root.get_substate(ScimState.get_full_name().split(".")[1:])


def unlimited(session, org) -> None:
    session.add(Subscription(organization_id=org.id, kind="plan", plan_key="unlimited",
                             status="active", stripe_subscription_id=f"sub_{org.id}"))  # fmt: skip
    session.commit()


def test_an_owner_generates_a_token_shown_once_and_revokes_it(session):
    owner = make_user(session)
    org = make_org(session, owner)
    unlimited(session, org)
    state = settings_page(session, owner, org)

    state.generate()

    assert state.new_token.startswith("scim_")
    assert state.available and state.prefix == state.new_token[:13] + "…"
    assert state.base_url.endswith("/scim/v2")
    assert scim_tokens.authenticate(session, state.new_token) == org.id
    token = state.new_token
    state.dismiss_token()
    assert state.new_token == ""

    state.revoke()
    assert state.prefix == ""
    with pytest.raises(NotAuthenticated):
        scim_tokens.authenticate(session, token)


@pytest.mark.parametrize("plan", ["unlimited", "free"])
def test_a_crafted_generate_without_the_role_or_the_plan_makes_no_token(session, plan):
    owner = make_user(session)
    org = make_org(session, owner)
    if plan == "unlimited":
        unlimited(session, org)
        caller = add_member(session, org, Role.VIEWER)
    else:
        caller = owner
    state = settings_page(session, caller, org)

    state.generate()

    assert state.new_token == ""
    assert session.exec(select(ScimToken)).all() == []
