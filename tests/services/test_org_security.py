"""Organization Security settings (SPEC §13): require two-factor sign-in and the IP
allowlist — who may edit them on which plan, the own-address warning,
the audit trail, and their enforcement in the state core (pages and events)."""

import asyncio
from ipaddress import ip_network

import pyotp
import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import Session, select

from orgportal import db, routes
from orgportal.config import settings
from orgportal.models import Role, Subscription
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.services import accounts, org_security, two_factor
from orgportal.services.access_rules import address_allowed, parse_allowlist
from orgportal.services.client_address import calling_from, client_address
from orgportal.services.errors import PermissionDenied, ValidationFailed
from orgportal.services.org_security import AccessRefused, FeatureLocked, OwnAddressExcluded
from orgportal.state.base import AppState
from orgportal.state.members import MembersState
from orgportal.state.org_security import OrgSecurityState
from orgportal.state.two_factor import TwoFactorState
from tests.factories import add_member, audit_actions, make_org, make_user, open_session

OFFICE = "203.0.113.7"


pytestmark = pytest.mark.usefixtures("secret_key")  # tests/conftest.py


def on_plan(session: Session, org, plan_key: str = "professional") -> None:
    session.add(
        Subscription(organization_id=org.id, kind="plan", plan_key=plan_key, status="active",
                     stripe_subscription_id=f"sub_sec_{org.id}", interval="monthly")
    )  # fmt: skip
    session.commit()


def save(session, user, org, *, require=False, allowlist="", address=OFFICE, confirm=False):
    with calling_from(address):  # the editor is at `address`, as the boundaries say
        result = org_security.update_settings(
            session,
            user=user,
            organization_id=org.id,
            require_two_factor=require,
            ip_allowlist=allowlist,
            client_address=address,
            confirm_own_address=confirm,
        )
    session.commit()
    return result


def enable_two_factor(session: Session, user) -> None:
    setup = two_factor.start_setup(session, user=user)
    two_factor.confirm_setup(session, user=user, code=pyotp.TOTP(setup.secret).now())
    session.commit()


# --- the client's address -----------------------------------------------------------------


def test_the_proxy_header_counts_only_from_a_trusted_proxy():
    networks = parse_allowlist(OFFICE)
    proxies = [ip_network("10.0.0.0/8")]
    # straight from the internet: a forged header changes nothing
    assert client_address("198.51.100.9", OFFICE, proxies) == "198.51.100.9"
    assert not address_allowed(client_address("198.51.100.9", OFFICE, proxies), networks)
    # through our proxy: the address it saw
    assert address_allowed(client_address("10.0.0.2", OFFICE, proxies), networks)
    # a client-made left part of the header is never believed
    seen = client_address("10.0.0.2", f"{OFFICE}, 198.51.100.9", proxies)
    assert seen == "198.51.100.9" and not address_allowed(seen, networks)


# --- settings --------------------------------------------------------------------------------


def test_settings_are_locked_below_professional(session):
    owner = make_user(session)
    org = make_org(session, owner)
    current = org_security.get_settings(session, user=owner, organization_id=org.id)
    assert not current.available
    assert current.locked_reason.endswith(
        "are available on the Professional and Unlimited plans."
    )
    with pytest.raises(FeatureLocked) as refused:
        save(session, owner, org, require=True)
    assert refused.value.status == 403
    on_plan(session, org, "basic")
    with pytest.raises(FeatureLocked):
        save(session, owner, org, require=True)


@pytest.mark.parametrize("plan", ["professional", "unlimited"])
def test_owner_and_admin_edit_them_on_the_top_plans(session, plan):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org, plan)
    admin = add_member(session, org, Role.ADMIN)
    saved = save(session, admin, org, require=True, allowlist=f"{OFFICE}\n2001:db8::/32")
    assert saved.available and saved.require_two_factor
    assert saved.ip_allowlist == f"{OFFICE}\n2001:db8::/32"
    assert audit_actions(session, org.id)[-2:] == [
        "security.two_factor_requirement_changed",
        "security.ip_allowlist_changed",
    ]
    enable_two_factor(session, owner)  # from now on the organization requires it of them
    before = audit_actions(session, org.id)
    save(session, owner, org, require=True, allowlist=f"{OFFICE}\n2001:db8::/32")
    assert audit_actions(session, org.id) == before  # nothing changed, nothing recorded


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_other_roles_cannot_see_or_change_them(session, role):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    member = add_member(session, org, role)
    with pytest.raises(PermissionDenied):
        org_security.get_settings(session, user=member, organization_id=org.id)
    with pytest.raises(PermissionDenied):
        save(session, member, org, require=True)


def test_a_list_without_the_editors_own_address_needs_confirmation(session):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    with pytest.raises(OwnAddressExcluded) as warned:
        save(session, owner, org, allowlist="198.51.100.0/24", address=OFFICE)
    assert OFFICE in warned.value.message
    session.rollback()
    current = org_security.get_settings(session, user=owner, organization_id=org.id)
    assert current.ip_allowlist == ""  # nothing saved
    saved = save(session, owner, org, allowlist="198.51.100.0/24", address=OFFICE, confirm=True)
    assert saved.ip_allowlist == "198.51.100.0/24"


def test_a_bad_list_changes_nothing(session):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    save(session, owner, org, allowlist=OFFICE)
    with pytest.raises(ValidationFailed):
        save(session, owner, org, require=True, allowlist=f"{OFFICE}\nnot-an-ip")
    session.rollback()
    with calling_from(OFFICE):
        current = org_security.get_settings(session, user=owner, organization_id=org.id)
    assert current.ip_allowlist == OFFICE and not current.require_two_factor


# --- enforcement -----------------------------------------------------------------------------


def test_required_two_factor_refuses_members_without_it_in_that_organization_only(session):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    member = add_member(session, org, Role.AGENT)
    save(session, owner, org, require=True)
    with pytest.raises(AccessRefused) as refused:
        org_security.check_access(session, user=member, organization_id=org.id, address=OFFICE)
    assert refused.value.reason == "two_factor" and refused.value.status == 403
    assert "requires two-factor sign-in" in refused.value.message
    # their Personal Workspace and other organizations are unaffected
    org_security.check_access(session, user=member, organization_id=None, address=OFFICE)
    other = make_org(session, member, "Other Team")
    org_security.check_access(session, user=member, organization_id=other.id, address=OFFICE)
    enable_two_factor(session, member)
    org_security.check_access(session, user=member, organization_id=org.id, address=OFFICE)


def test_the_allowlist_refuses_other_addresses_naming_the_one_seen(session):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    member = add_member(session, org, Role.VIEWER)
    save(session, owner, org, allowlist="203.0.113.0/24\n2001:db8::/32")
    org_security.check_access(session, user=member, organization_id=org.id, address=OFFICE)
    org_security.check_access(session, user=member, organization_id=org.id, address="2001:db8::5")
    with pytest.raises(AccessRefused) as refused:
        org_security.check_access(
            session, user=member, organization_id=org.id, address="198.51.100.9"
        )
    assert refused.value.reason == "address"
    assert "198.51.100.9" in refused.value.message


def test_settings_are_not_enforced_after_a_downgrade(session):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    save(session, owner, org, require=True, allowlist=OFFICE)
    row = session.exec(select(Subscription).where(Subscription.organization_id == org.id)).one()
    row.status = "canceled"
    session.add(row)
    session.commit()
    org_security.check_access(session, user=owner, organization_id=org.id, address="192.0.2.1")


# --- the state core: pages and events ----------------------------------------------------------


def connected(cookie: str, path: str, peer: str = "127.0.0.1", forwarded: str = "") -> AppState:
    root = State(_reflex_internal_init=True)
    headers = {"cookie": cookie, "asgi-scope-client": peer}
    if forwarded:
        headers["x-forwarded-for"] = forwarded
    root._update_router_vars(
        {
            constants.RouteVar.HEADERS: headers,
            constants.RouteVar.CLIENT_IP: peer,
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: path,
        },
        {},
    )
    return root.get_substate(AppState.get_full_name().split(".")[1:])


def load(cookie: str, route: str, **client) -> str:
    state = connected(f"{routes.SESSION_COOKIE}={cookie}", route, **client)
    return str(asyncio.run(AppState.load_page.fn(state, route)))


@pytest.fixture
def app_db(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def test_pages_of_an_organization_requiring_two_factor_send_to_set_up(session, app_db):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    member = add_member(session, org, Role.AGENT)
    save(session, owner, org, require=True)
    # first the Personal one: a new session opens the workspace last used
    personal, _ = open_session(session, member, None)
    in_org, _ = open_session(session, member, org.id)
    session.commit()
    for route in (routes.ORGANIZATION, routes.ORG_MEMBERS, routes.LINKS, routes.FILES):
        assert routes.TWO_FACTOR_REQUIRED in load(in_org, route)
    for route in (routes.ACCOUNT, routes.TWO_FACTOR_REQUIRED):
        assert routes.TWO_FACTOR_REQUIRED not in load(in_org, route)
    for route in (routes.ORGANIZATION, routes.LINKS, routes.FILES):
        assert load(personal, route) == "None"


def test_pages_refuse_an_address_outside_the_allowlist(session, app_db, monkeypatch):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    save(session, owner, org, allowlist=OFFICE)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    assert routes.ADDRESS_BLOCKED in load(raw, routes.LINKS, peer="127.0.0.1")
    assert load(raw, routes.LINKS, peer=OFFICE) == "None"
    # a forged header from an untrusted peer is ignored...
    assert routes.ADDRESS_BLOCKED in load(raw, routes.LINKS, forwarded=OFFICE)
    # ...and believed from a trusted proxy
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("127.0.0.1/32")])
    assert load(raw, routes.LINKS, forwarded=OFFICE) == "None"


def test_events_of_a_refused_organization_are_redirected(session, app_db):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    member = add_member(session, org, Role.ADMIN)
    save(session, owner, org, require=True)
    raw, _ = open_session(session, member, org.id)
    session.commit()
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_MEMBERS)
    ran: list[int] = []
    events = state._run(lambda s, v: ran.append(1))
    assert ran == [] and routes.TWO_FACTOR_REQUIRED in str(events)
    # an event claiming to come from /account (the client writes the path) is refused too
    crafted = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ACCOUNT)
    members = crafted.parent_state.get_substate(MembersState.get_full_name().split(".")[1:])
    events = members._run(lambda s, v: ran.append(1))
    assert ran == [] and routes.TWO_FACTOR_REQUIRED in str(events)
    # ...while the account's own states (setting up two-factor sign-in) still work
    two_factor = crafted.parent_state.get_substate(
        TwoFactorState.get_full_name().split(".")[1:]
    )
    two_factor._run(lambda s, v: ran.append(1), reload=False)
    assert ran == [1]
    # leaving the workspace is always allowed
    switched = AppState.switch_workspace.fn(state, 0)
    if asyncio.iscoroutine(switched):
        asyncio.run(switched)
    with Session(db.engine()) as fresh:
        assert accounts.authenticate(fresh, raw).session.active_org_id is None


def test_owners_and_admins_see_who_has_two_factor_sign_in(session, app_db):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    enable_two_factor(session, owner)

    def rows(user) -> dict[str, str]:
        raw, _ = open_session(session, user, org.id)
        session.commit()
        state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_MEMBERS)
        asyncio.run(AppState.load_page.fn(state, routes.ORG_MEMBERS))
        root = state.parent_state
        members = root.get_substate(MembersState.get_full_name().split(".")[1:])
        return {row.email: row.two_factor for row in members.members}

    assert rows(owner) == {owner.email: "On", agent.email: "Off"}
    assert rows(agent) == {owner.email: "", agent.email: ""}  # not shown below Owner/Admin


def test_save_anyway_on_the_page_saves_a_list_that_locks_the_editor_out(session, app_db):
    """The save commits although its own reload would now be refused (a refused
    reload used to undo it silently)."""
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    root = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_SETTINGS, peer=OFFICE)
    card = root.parent_state.get_substate(OrgSecurityState.get_full_name().split(".")[1:])
    asked = asyncio.run(OrgSecurityState.save.fn(card, {"ip_allowlist": "198.51.100.0/24"}))
    assert asked is None and OFFICE in card.confirm_message  # nothing saved yet
    saved = asyncio.run(OrgSecurityState.save_anyway.fn(card))
    assert '["success"]' in str(saved)
    with Session(db.engine()) as fresh:
        rule = org_security.access_rule(fresh, user=owner, organization_id=org.id)
        assert rule is not None and [str(n) for n in rule.networks] == ["198.51.100.0/24"]
