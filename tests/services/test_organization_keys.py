"""Organization API keys as a service (SPEC §17): managed by Owners/Admins, shown once, stored
hashed, scoped where roles are checked, pinned to their organization, outliving members."""

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from orgportal import security
from orgportal.models import AuditEvent, Link, OrganizationApiKey, Role, User
from orgportal.models.base import utcnow
from orgportal.services import (
    api_keys,
    billing,
    invitations,
    links,
    members,
    organization_keys,
    organizations,
    tickets,
    workspace_tokens,
)
from orgportal.services.client_address import calling_from
from orgportal.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.permissions import Permission, require
from tests.factories import PASSWORD, add_member, make_org, make_user


def new_key(session: Session, user, org, scopes=("read",), name="CI bot", **kw):
    raw, key = organization_keys.create_key(
        session,
        user=user,
        organization_id=org.id,
        name=name,
        scopes=list(scopes),
        password=PASSWORD,
        **kw,
    )
    session.commit()
    return raw, key


def caller_of(session: Session, raw: str):
    caller = api_keys.authenticate(session, raw)
    session.commit()
    return caller


def test_a_key_is_shown_once_stored_hashed_and_acts_in_its_organization(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, key = new_key(session, owner, org, scopes=["links", "read"], name="  Zapier  ")
    assert raw.startswith("opk_") and len(raw) > 40 and key.prefix == raw[:12]
    stored = session.exec(select(OrganizationApiKey)).one()
    assert stored.key_hash == security.token_hash(raw) and raw not in str(stored.model_dump())
    assert (stored.name, stored.scopes, stored.created_by_id) == ("Zapier", "read,links", owner.id)
    caller = caller_of(session, raw)
    assert caller.active_org_id == org.id and caller.organization_key_id == key.id
    assert caller.user.id == key.service_user_id != owner.id
    assert api_keys.active_workspace(session, caller) == org.id


def test_the_service_account_is_no_member_no_seat_and_cannot_sign_in(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, key = new_key(session, owner, org)
    listed = members.list_members(session, user=owner, organization_id=org.id)
    assert [m.user_id for m in listed] == [owner.id]
    service_user = session.get(User, key.service_user_id)
    assert not security.verify_password("", service_user.password_hash)
    assert not security.verify_password("!", service_user.password_hash)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_manage_keys(session: Session, role):
    owner = make_user(session)
    org = make_org(session, owner)
    manager = owner if role == Role.OWNER else add_member(session, org, role)
    raw, key = new_key(session, manager, org)
    rows, total = organization_keys.list_keys(session, user=manager, organization_id=org.id)
    assert total == 1 and rows[0].id == key.id


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_other_roles_are_refused_every_key_action(session: Session, role):
    owner = make_user(session)
    org = make_org(session, owner)
    _, key = new_key(session, owner, org)
    member = add_member(session, org, role)
    with pytest.raises(PermissionDenied, match="does not allow"):
        new_key(session, member, org)
    with pytest.raises(PermissionDenied):
        organization_keys.list_keys(session, user=member, organization_id=org.id)
    with pytest.raises(PermissionDenied):
        organization_keys.rotate_key(
            session, user=member, organization_id=org.id, key_id=key.id, password=PASSWORD
        )
    with pytest.raises(PermissionDenied):
        organization_keys.revoke_key(session, user=member, organization_id=org.id, key_id=key.id)
    session.rollback()
    assert session.exec(select(OrganizationApiKey)).all() == [key]


def test_outsiders_and_other_organizations_keys_read_as_missing(session: Session):
    owner, stranger = make_user(session), make_user(session)
    org = make_org(session, owner)
    other = make_org(session, stranger, "Other")
    _, key = new_key(session, owner, org)
    with pytest.raises(NotFound):
        organization_keys.list_keys(session, user=stranger, organization_id=org.id)
    with pytest.raises(NotFound, match="API key not found"):
        organization_keys.revoke_key(
            session, user=stranger, organization_id=other.id, key_id=key.id
        )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": " "}, "name", "Key name"),
        ({"scopes": []}, "scopes", "at least one scope"),
        ({"scopes": ["read", "admin"]}, "scopes", "Unknown scope admin"),
        ({"expires_on": "next week"}, "expires_on", "YYYY-MM-DD"),
        ({"expires_on": "2000-01-01"}, "expires_on", "today or later"),
        ({"expires_on": "2099-01-01"}, "expires_on", "three years"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    session: Session, fields, field, message
):
    owner = make_user(session)
    org = make_org(session, owner)
    arguments = {"name": "Bot", "scopes": ["read"], "password": PASSWORD, **fields}
    with pytest.raises(ValidationFailed) as refused:
        organization_keys.create_key(session, user=owner, organization_id=org.id, **arguments)
    assert message in refused.value.errors[field]
    session.rollback()
    assert session.exec(select(OrganizationApiKey)).all() == []


def test_an_organization_has_a_bounded_number_of_keys(session: Session, monkeypatch):
    monkeypatch.setattr(organization_keys, "MAX_ACTIVE_KEYS", 2)
    owner = make_user(session)
    org = make_org(session, owner)
    new_key(session, owner, org, name="one")
    _, two = new_key(session, owner, org, name="two")
    with pytest.raises(Conflict, match="at most 2"):
        new_key(session, owner, org, name="three")
    organization_keys.revoke_key(session, user=owner, organization_id=org.id, key_id=two.id)
    new_key(session, owner, org, name="three")


def test_the_list_is_paginated_newest_first(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    for n in range(5):
        new_key(session, owner, org, name=f"k{n}")
    rows, total = organization_keys.list_keys(
        session, user=owner, organization_id=org.id, limit=2, offset=2
    )
    assert total == 5 and [r.name for r in rows] == ["k2", "k1"]


def test_expiry_works_through_the_day_then_refuses(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    today = utcnow().date()
    raw, key = new_key(session, owner, org, expires_on=today.isoformat())
    assert key.expires_at > utcnow() and key.expires_at.date() == today + timedelta(days=1)
    caller_of(session, raw)
    key.expires_at = utcnow() - timedelta(seconds=1)
    session.add(key)
    session.commit()
    with pytest.raises(NotAuthenticated, match="expired"):
        api_keys.authenticate(session, raw)


def test_last_use_records_time_and_address(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, key = new_key(session, owner, org)
    assert key.last_used_at is None
    with calling_from("203.0.113.9", api=True):
        caller_of(session, raw)
    session.refresh(key)
    assert key.last_used_at is not None and key.last_used_address == "203.0.113.9"
    with calling_from("198.51.100.4", api=True):  # a new address shows at once
        caller_of(session, raw)
    session.refresh(key)
    assert key.last_used_address == "198.51.100.4"


def test_rotate_gives_a_new_secret_and_the_old_one_stops(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    old, key = new_key(session, owner, org, scopes=["links"])
    new, rotated = organization_keys.rotate_key(
        session, user=owner, organization_id=org.id, key_id=key.id, password=PASSWORD
    )
    session.commit()
    assert new != old and rotated.id == key.id and rotated.scopes == "links"
    assert rotated.rotated_at is not None
    with pytest.raises(NotAuthenticated):
        api_keys.authenticate(session, old)
    assert caller_of(session, new).user.id == key.service_user_id


def test_revoke_stops_the_key_at_once(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, key = new_key(session, owner, org)
    organization_keys.revoke_key(session, user=owner, organization_id=org.id, key_id=key.id)
    session.commit()
    with pytest.raises(NotAuthenticated, match="revoked"):
        api_keys.authenticate(session, raw)
    assert organization_keys.list_keys(session, user=owner, organization_id=org.id) == ([], 0)
    with pytest.raises(NotFound):
        organization_keys.rotate_key(
        session, user=owner, organization_id=org.id, key_id=key.id, password=PASSWORD
    )


def test_creation_rotation_and_revocation_are_audited(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, key = new_key(session, owner, org, scopes=["read", "tickets"], name="Helpdesk")
    organization_keys.rotate_key(
        session, user=owner, organization_id=org.id, key_id=key.id, password=PASSWORD
    )
    organization_keys.revoke_key(session, user=owner, organization_id=org.id, key_id=key.id)
    session.commit()
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action).startswith("api_key."))
        .order_by(col(AuditEvent.id))
    ).all()
    assert [e.action for e in events] == ["api_key.created", "api_key.rotated", "api_key.revoked"]
    assert all(e.actor_id == owner.id for e in events)
    assert "Helpdesk" in events[0].summary and "Read-only, Tickets" in events[0].summary


def test_a_key_survives_its_creator_and_every_member_leaving(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    admin = add_member(session, org, Role.ADMIN)
    raw, key = new_key(session, admin, org, scopes=["read"])
    members.remove_member(session, user=owner, organization_id=org.id, member_id=admin.id)
    session.commit()
    caller = caller_of(session, raw)
    require(session, caller.user, org.id, Permission.VIEW)
    session.delete(session.get(User, admin.id))  # the creator's account may go too
    session.commit()
    session.refresh(key)
    assert key.created_by_id is None
    require(session, caller_of(session, raw).user, org.id, Permission.VIEW)


def test_a_members_personal_key_stops_in_the_organization_they_leave(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    raw, _ = api_keys.create_key(
        session, user=agent, name="mine", active_org_id=org.id, password=PASSWORD
    )
    session.commit()
    caller = caller_of(session, raw)
    require(session, caller.user, org.id, Permission.VIEW)
    members.leave(session, user=agent, organization_id=org.id)
    session.commit()
    caller = caller_of(session, raw)
    with pytest.raises(NotFound):
        require(session, caller.user, org.id, Permission.VIEW)
    assert api_keys.active_workspace(session, caller) is None  # back to Personal
    with pytest.raises(NotFound):
        links.create_link(
            session, user=caller.user, organization_id=org.id, target_url="https://x.io"
        )


# --- scopes, enforced by the services -------------------------------------------------------


def scoped(session: Session, scopes):
    owner = make_user(session)
    org = make_org(session, owner)
    add_member(session, org, Role.VIEWER, make_user(session, "viewer@example.com"))
    raw, _ = new_key(session, owner, org, scopes=scopes)
    return owner, org, caller_of(session, raw).user


def test_read_only_reads_and_changes_nothing(session: Session):
    owner, org, key_user = scoped(session, ["read"])
    assert len(members.list_members(session, user=key_user, organization_id=org.id)) == 2
    links.list_links(session, user=key_user, organization_id=org.id)
    with pytest.raises(PermissionDenied, match=r"scopes \(Read-only\).*needs the Links scope"):
        links.create_link(session, user=key_user, organization_id=org.id, target_url="https://x.io")
    viewer = members.list_members(session, user=owner, organization_id=org.id)[1]
    with pytest.raises(PermissionDenied, match="needs the Members scope"):
        members.remove_member(
            session, user=key_user, organization_id=org.id, member_id=viewer.user_id
        )
    with pytest.raises(PermissionDenied, match="needs the Tickets scope"):
        tickets.list_tickets(session, user=key_user, organization_id=org.id)
    with pytest.raises(PermissionDenied, match=r"needs the Billing \(read\) scope"):
        billing.billing_details(session, user=key_user, organization_id=org.id)


def test_the_links_scope_creates_and_deletes_links(session: Session):
    owner, org, key_user = scoped(session, ["links"])
    link = links.create_link(
        session, user=key_user, organization_id=org.id, target_url="https://x.io"
    )
    theirs = links.create_link(
        session, user=owner, organization_id=org.id, target_url="https://y.io"
    )
    session.commit()
    links.delete_link(session, user=key_user, organization_id=org.id, link_id=link.id)
    links.delete_link(session, user=key_user, organization_id=org.id, link_id=theirs.id)
    session.commit()
    assert session.exec(select(Link)).all() == []
    with pytest.raises(PermissionDenied, match="needs the Members scope"):
        invitations.create_invite(
            session, user=key_user, organization_id=org.id, email="x@example.com", role="agent"
        )


def test_without_the_links_scope_no_link_is_deleted(session: Session):
    owner, org, key_user = scoped(session, ["read", "members", "tickets", "billing_read"])
    link = links.create_link(session, user=owner, organization_id=org.id, target_url="https://x.io")
    session.commit()
    with pytest.raises(PermissionDenied, match="needs the Links scope"):
        links.delete_link(session, user=key_user, organization_id=org.id, link_id=link.id)


def test_the_members_scope_manages_members_and_invites(session: Session):
    owner, org, key_user = scoped(session, ["members"])
    viewer = members.list_members(session, user=owner, organization_id=org.id)[1]
    members.change_role(
        session, user=key_user, organization_id=org.id, member_id=viewer.user_id, role="agent"
    )
    invitations.create_invite(
        session, user=key_user, organization_id=org.id, email="new@example.com", role="admin"
    )
    members.remove_member(session, user=key_user, organization_id=org.id, member_id=viewer.user_id)
    session.commit()
    with pytest.raises(PermissionDenied, match="Owner cannot be removed"):
        members.remove_member(session, user=key_user, organization_id=org.id, member_id=owner.id)
    with pytest.raises(PermissionDenied, match="needs the Links scope"):
        links.create_link(session, user=key_user, organization_id=org.id, target_url="https://x.io")


def test_the_tickets_scope_handles_tickets(session: Session):
    _, org, key_user = scoped(session, ["tickets"])
    tickets.list_tickets(session, user=key_user, organization_id=org.id)
    with pytest.raises(PermissionDenied, match=r"needs the Billing \(read\) scope"):
        billing.billing_details(session, user=key_user, organization_id=org.id)


def test_the_billing_read_scope_reads_billing_and_changes_nothing(session: Session):
    _, org, key_user = scoped(session, ["billing_read"])
    assert billing.billing_details(session, user=key_user, organization_id=org.id).plan.name
    with pytest.raises(PermissionDenied, match="never can"):
        require(session, key_user, org.id, Permission.MANAGE_BILLING)
    with pytest.raises(PermissionDenied, match="needs the Tickets scope"):
        tickets.list_tickets(session, user=key_user, organization_id=org.id)


@pytest.mark.parametrize(
    "permission",
    [
        Permission.EDIT_ORGANIZATION,
        Permission.MANAGE_BILLING,
        Permission.MANAGE_SUPPORT,
        Permission.VIEW_AUDIT_LOG,
        Permission.DELETE_ORGANIZATION,
        Permission.TRANSFER_OWNERSHIP,
    ],
)
def test_no_scope_ever_grants_the_owner_and_admin_powers(session: Session, permission):
    _, org, key_user = scoped(session, list(organization_keys.SCOPES))
    with pytest.raises(PermissionDenied, match="never can"):
        require(session, key_user, org.id, permission)


def test_a_key_is_pinned_to_its_organization(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    other = make_org(session, owner, "Other")
    raw, _ = new_key(session, owner, org, scopes=list(organization_keys.SCOPES))
    caller = caller_of(session, raw)
    with pytest.raises(NotFound):
        require(session, caller.user, other.id, Permission.VIEW)
    with pytest.raises(PermissionDenied, match="cannot switch"):
        workspace_tokens.issue(session, caller=caller, organization_id=other.id)
    with pytest.raises(PermissionDenied, match="cannot create organizations"):
        organizations.create_organization(session, user=caller.user, name="Mine")
    with pytest.raises(PermissionDenied, match="never can"):  # keys never make keys
        new_key(session, caller.user, org)


def test_a_revoked_keys_account_loses_its_standing_at_once(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, key = new_key(session, owner, org)
    key_user = caller_of(session, raw).user
    organization_keys.revoke_key(session, user=owner, organization_id=org.id, key_id=key.id)
    session.commit()
    with pytest.raises(NotFound):
        require(session, key_user, org.id, Permission.VIEW)


def test_deleting_the_organization_deletes_its_keys_and_their_accounts(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, key = new_key(session, owner, org, scopes=["links"])
    key_user = caller_of(session, raw).user
    links.create_link(session, user=key_user, organization_id=org.id, target_url="https://x.io")
    session.commit()
    organizations.delete_organization(
        session, user=owner, organization_id=org.id, confirm_name=org.name
    )
    session.commit()
    session.expire_all()
    assert session.exec(select(OrganizationApiKey)).all() == []
    assert session.get(User, key_user.id) is None
    assert session.exec(select(Link)).all() == []
    with pytest.raises(NotAuthenticated):
        api_keys.authenticate(session, raw)


def test_what_a_key_does_is_audited_under_its_name(session: Session):
    _, org, key_user = scoped(session, ["members"])
    viewer = members.list_members(session, user=key_user, organization_id=org.id)[1]
    members.remove_member(session, user=key_user, organization_id=org.id, member_id=viewer.user_id)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "member.removed")).one()
    assert event.actor_email.startswith("api-key-ci-bot-")
    assert event.actor_email.endswith("@" + organization_keys.SERVICE_EMAIL_DOMAIN)


def test_creating_and_rotating_ask_the_member_to_prove_it_is_them(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as refused:
        organization_keys.create_key(
            session, user=owner, organization_id=org.id, name="K", scopes=["read"],
            password="not it",
        )  # fmt: skip
    assert refused.value.errors == {"key_password": "Your current password is incorrect."}
    session.rollback()
    raw, key = new_key(session, owner, org)
    with pytest.raises(ValidationFailed) as refused:
        organization_keys.rotate_key(
            session, user=owner, organization_id=org.id, key_id=key.id, password=""
        )
    assert "key_password" in refused.value.errors
    session.rollback()
    assert caller_of(session, raw).organization_key_id == key.id  # unchanged


def test_an_unconfirmed_address_gets_no_key(session: Session):
    owner = make_user(session, confirmed=False)
    org = make_org(session, owner)
    with pytest.raises(PermissionDenied, match="Confirm your email address"):
        new_key(session, owner, org)
