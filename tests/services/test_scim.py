"""SCIM rules (SPEC §16) at the service level: the token (who may generate it, shown once,
hashed, rotated, revoked, gated to the Unlimited plan), provisioning (existing account or
just in time, seats), deprovisioning (sessions and API keys end, links stay), role groups
(never Owner) and department groups (Support Subscription)."""

import pytest
from sqlmodel import Session, select

from orgportal import security
from orgportal.config import settings
from orgportal.models import (
    ApiKey,
    CompanyJoinSettings,
    Department,
    DepartmentMember,
    InviteStatus,
    Link,
    Membership,
    Role,
    ScimToken,
    Subscription,
    User,
    UserSession,
)
from orgportal.models.webhook import WebhookMessage
from orgportal.services import (
    api_keys,
    invitations,
    links,
    scim,
    scim_departments,
    scim_tokens,
    webhooks,
)
from orgportal.services.errors import (
    Conflict,
    NoSeatsAvailable,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.scim import Person
from orgportal.services.support_settings import SupportSubscriptionRequired
from tests.factories import PASSWORD, add_member, audit_actions, make_org, make_user, open_session


def subscribe(session: Session, org, kind: str = "plan", plan_key: str = "unlimited", quantity=1):
    session.add(
        Subscription(
            organization_id=org.id,
            kind=kind,
            plan_key=plan_key if kind == "plan" else "",
            status="active",
            quantity=quantity,
            stripe_subscription_id=f"sub_{org.id}_{kind}_{plan_key}",
        )  # fmt: skip
    )
    session.commit()


@pytest.fixture
def org(session: Session):
    owner = make_user(session, "owner@acme.example")
    org = make_org(session, owner, "Acme")
    subscribe(session, org)
    return org


def owner_of(session: Session, org) -> User:
    return session.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER)
    ).one()


def person(name: str, **changes) -> Person:
    values = dict(user_name=name, email=name, first_name="Ada", last_name="Lovelace",
                  resource={"userName": name})  # fmt: skip
    values.update(changes)
    return Person(**values)


def member_role(session: Session, org, user_id: int) -> str | None:
    row = session.exec(
        select(Membership).where(
            Membership.organization_id == org.id, Membership.user_id == user_id
        )
    ).first()
    return row.role if row else None


# --- tokens -----------------------------------------------------------------------------------


def test_token_is_shown_once_stored_hashed_and_identifies_the_organization(session, org):
    owner = owner_of(session, org)
    raw = scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    session.commit()

    row = session.exec(select(ScimToken).where(ScimToken.organization_id == org.id)).one()
    assert raw.startswith("scim_") and len(raw) > 40
    assert row.token_hash == security.token_hash(raw) and raw not in row.token_hash
    assert scim_tokens.authenticate(session, raw) == org.id
    setup = scim_tokens.read_setup(session, user=owner, organization_id=org.id)
    assert setup.available and setup.prefix == raw[:13] and setup.created_at is not None
    assert audit_actions(session, org.id)[-1] == "scim.token_generated"


def test_generating_again_rotates_and_revoke_ends_it(session, org):
    owner = owner_of(session, org)
    first = scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    second = scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    session.commit()

    with pytest.raises(NotAuthenticated):
        scim_tokens.authenticate(session, first)
    assert scim_tokens.authenticate(session, second) == org.id

    scim_tokens.revoke_token(session, user=owner, organization_id=org.id)
    session.commit()
    with pytest.raises(NotAuthenticated):
        scim_tokens.authenticate(session, second)
    assert scim_tokens.read_setup(session, user=owner, organization_id=org.id).prefix == ""
    with pytest.raises(NotFound):
        scim_tokens.revoke_token(session, user=owner, organization_id=org.id)
    assert audit_actions(session, org.id)[-1] == "scim.token_revoked"


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_and_admins_manage_the_token(session, org, role):
    member = add_member(session, org, role)
    admin = add_member(session, org, Role.ADMIN)

    with pytest.raises(PermissionDenied):
        scim_tokens.generate_token(session, user=member, organization_id=org.id)
    with pytest.raises(PermissionDenied):
        scim_tokens.read_setup(session, user=member, organization_id=org.id)
    assert scim_tokens.generate_token(session, user=admin, organization_id=org.id)
    with pytest.raises(NotFound):  # outsiders learn nothing
        scim_tokens.generate_token(session, user=make_user(session), organization_id=org.id)


def test_lower_plans_cannot_generate_and_lose_a_working_token(session, org):
    owner = owner_of(session, org)
    raw = scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    session.commit()
    subscribe(session, org, plan_key="professional")  # the newest subscription is the plan

    with pytest.raises(PermissionDenied, match="Unlimited plan"):
        scim_tokens.authenticate(session, raw)
    with pytest.raises(PermissionDenied, match="Unlimited plan"):
        scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    setup = scim_tokens.read_setup(session, user=owner, organization_id=org.id)
    assert not setup.available and setup.plan_name == "Unlimited"


# --- users ------------------------------------------------------------------------------------


def test_provisioning_creates_a_member_just_in_time(session, org):
    view = scim.create_user(session, organization_id=org.id, person=person("Ada@Acme.example"))
    session.commit()

    account = session.get(User, view.row.user_id)
    assert account.email == "ada@acme.example" and account.email_confirmed_at is not None
    assert (account.first_name, account.last_name) == ("Ada", "Lovelace")
    assert not security.verify_password("", account.password_hash)
    assert view.member and view.role == Role.VIEWER == scim.DEFAULT_ROLE
    assert member_role(session, org, account.id) == Role.VIEWER
    assert audit_actions(session, org.id)[-1] == "member.joined"


def test_the_organizations_default_role_is_used(session, org):
    session.add(CompanyJoinSettings(organization_id=org.id, default_role="agent"))
    session.commit()

    view = scim.create_user(session, organization_id=org.id, person=person("ag@acme.example"))

    assert view.role == Role.AGENT == scim.default_role(session, org.id)


def test_bad_input_is_refused_and_changes_nothing(session, org):
    with pytest.raises(ValidationFailed) as bad_email:
        scim.create_user(session, organization_id=org.id, person=person("x", email="not-an-email"))
    assert "emails" in bad_email.value.errors
    with pytest.raises(ValidationFailed):
        scim.create_user(session, organization_id=org.id, person=person("", email="a@b.io"))
    session.rollback()
    assert session.exec(select(User).where(User.email == "a@b.io")).first() is None


def test_user_name_is_unique_in_the_organization_whatever_the_case(session, org):
    scim.create_user(session, organization_id=org.id, person=person("dup@acme.example"))
    with pytest.raises(Conflict):
        scim.create_user(session, organization_id=org.id, person=person("DUP@acme.example"))
    with pytest.raises(Conflict):  # the same account under another userName
        scim.create_user(
            session, organization_id=org.id,
            person=person("other-name", email="dup@acme.example"),
        )  # fmt: skip


def test_seat_limit_refuses_provisioning_and_reactivation(session, org):
    subscribe(session, org, kind="support", quantity=2)
    first = scim.create_user(session, organization_id=org.id, person=person("one@acme.example"))
    session.commit()

    with pytest.raises(NoSeatsAvailable, match="2 support seats"):
        scim.create_user(session, organization_id=org.id, person=person("two@acme.example"))
    session.rollback()
    assert session.exec(select(User).where(User.email == "two@acme.example")).first() is None

    # deprovisioned: the seat is free for someone else, and then coming back is refused
    scim.replace_user(session, organization_id=org.id, public_id=first.row.public_id,
                      person=person("one@acme.example", active=False))  # fmt: skip
    scim.create_user(session, organization_id=org.id, person=person("two@acme.example"))
    session.commit()
    with pytest.raises(NoSeatsAvailable):
        scim.replace_user(session, organization_id=org.id, public_id=first.row.public_id,
                          person=person("one@acme.example", active=True))  # fmt: skip


def test_a_pending_invitation_holds_the_seat_and_gives_the_role(session, org):
    subscribe(session, org, kind="support", quantity=2)  # the owner and the invitation
    invite = invitations.create_invite(session, user=owner_of(session, org), organization_id=org.id,
                                       email="invited@acme.example", role="agent")  # fmt: skip
    session.commit()

    view = scim.create_user(session, organization_id=org.id, person=person("invited@acme.example"))
    session.commit()

    assert view.member and view.role == Role.AGENT
    session.refresh(invite)
    assert invite.status == InviteStatus.ACCEPTED


def test_inactive_provisioning_takes_no_seat(session, org):
    subscribe(session, org, kind="support", quantity=1)  # only the owner
    view = scim.create_user(
        session, organization_id=org.id, person=person("later@acme.example", active=False)
    )
    assert not view.member and view.row.active is False


def test_deprovisioning_ends_sessions_and_keys_keeps_links(session, org):
    leaver = add_member(session, org, Role.AGENT, make_user(session, "leaver@acme.example"))
    view = scim.create_user(session, organization_id=org.id, person=person("leaver@acme.example"))
    link = links.create_link(
        session, user=leaver, organization_id=org.id, target_url="https://x.io/a"
    )
    _, browser = open_session(session, leaver)
    _, key = api_keys.create_key(
        session, user=leaver, name="k", active_org_id=None, password=PASSWORD
    )
    session.commit()

    scim.replace_user(session, organization_id=org.id, public_id=view.row.public_id,
                      person=person("leaver@acme.example", active=False))  # fmt: skip
    session.commit()

    assert member_role(session, org, leaver.id) is None
    assert session.get(UserSession, browser.id).revoked_at is not None
    assert session.get(ApiKey, key.id).revoked_at is not None
    assert session.get(Link, link.id).organization_id == org.id
    assert audit_actions(session, org.id)[-1] == "member.removed"
    assert (
        scim.get_user(session, organization_id=org.id, public_id=view.row.public_id).row.role
        == Role.AGENT
    )


def test_owner_is_never_deprovisioned_nor_regrouped(session, org):
    owner = owner_of(session, org)
    view = scim.create_user(session, organization_id=org.id, person=person(owner.email))
    assert view.role is None  # the Owner is in no group

    with pytest.raises(PermissionDenied):
        scim.delete_user(session, organization_id=org.id, public_id=view.row.public_id)
    scim.set_group_members(session, organization_id=org.id, role=Role.ADMIN,
                           public_ids=[view.row.public_id])  # fmt: skip
    assert member_role(session, org, owner.id) == Role.OWNER
    with pytest.raises(NotFound):
        scim.group_role("owner")


def test_role_groups_set_roles_and_leavers_fall_back(session, org):
    a = scim.create_user(session, organization_id=org.id, person=person("a@acme.example"))
    b = scim.create_user(session, organization_id=org.id, person=person("b@acme.example"))

    scim.set_group_members(session, organization_id=org.id, role=Role.AGENT,
                           public_ids=[a.row.public_id, b.row.public_id])  # fmt: skip
    assert member_role(session, org, a.row.user_id) == Role.AGENT
    members = scim.set_group_members(session, organization_id=org.id, role=Role.AGENT,
                                     public_ids=[b.row.public_id])  # fmt: skip

    assert [m.row.public_id for m in members] == [b.row.public_id]
    assert member_role(session, org, a.row.user_id) == scim.DEFAULT_ROLE
    with pytest.raises(NotFound):
        scim.set_group_members(session, organization_id=org.id, role=Role.AGENT,
                               public_ids=["no-such-user"])  # fmt: skip


def test_other_organizations_users_are_not_found(session, org):
    view = scim.create_user(session, organization_id=org.id, person=person("a@acme.example"))
    other = make_org(session, make_user(session), "Other")

    with pytest.raises(NotFound):
        scim.get_user(session, organization_id=other.id, public_id=view.row.public_id)
    assert scim.page_users(session, organization_id=other.id) == ([], 0)


# --- departments as groups --------------------------------------------------------------------


def test_department_groups_need_the_support_subscription(session, org):
    with pytest.raises(SupportSubscriptionRequired):
        scim_departments.create_group(session, organization_id=org.id, name="Support EMEA",
                                      external_id="", member_ids=[])  # fmt: skip


def test_department_groups_create_rename_assign_delete(session, org):
    subscribe(session, org, kind="support", quantity=10)
    a = scim.create_user(session, organization_id=org.id, person=person("a@acme.example"))
    group = scim_departments.create_group(session, organization_id=org.id, name="Support EMEA",
                                          external_id="okta-1", member_ids=[a.row.public_id])  # fmt: skip
    assert group.external_id == "okta-1"
    department = session.get(Department, group.department.id)
    assert session.get(DepartmentMember, (department.id, a.row.user_id)) is not None

    with pytest.raises(Conflict):  # role names belong to the role groups
        scim_departments.create_group(session, organization_id=org.id, name="admin",
                                      external_id="", member_ids=[])  # fmt: skip
    renamed = scim_departments.replace_group(
        session, organization_id=org.id, group_id=group.group_id, name="Support Europe",
        external_id="okta-1", member_ids=[],
    )  # fmt: skip
    assert renamed.department.name == "Support Europe" and renamed.members == []
    scim_departments.delete_group(session, organization_id=org.id, group_id=group.group_id)
    session.commit()
    assert session.get(Department, department.id) is None
    assert "support.department_deleted" in audit_actions(session, org.id)


def test_joins_and_removals_are_announced_like_any_member_change(
    session, org, monkeypatch, secret_key
):
    """Webhooks (SPEC §17) hear a provisioned member join and a deprovisioned one leave."""
    monkeypatch.setattr(settings, "webhooks_allow_private_targets", True)
    webhooks.create_endpoint(session, user=owner_of(session, org), organization_id=org.id,
                             url="http://127.0.0.1:9/hook",
                             event_types=["member.joined", "member.left"])  # fmt: skip
    view = scim.create_user(session, organization_id=org.id, person=person("a@acme.example"))
    scim.delete_user(session, organization_id=org.id, public_id=view.row.public_id)
    session.commit()

    sent = session.exec(
        select(WebhookMessage.event_type).where(WebhookMessage.organization_id == org.id)
    ).all()
    assert sorted(sent) == ["member.joined", "member.left"]
