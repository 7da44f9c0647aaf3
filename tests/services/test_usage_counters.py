"""Usage counters: kept exact by every change, checked against the rows.

The randomized test drives the real services — links and files created and deleted in
organizations and Personal Workspaces, invites accepted, members removed and leaving, plans
bought, changed and canceled (organization and personal), organizations and accounts
deleted — and after every step the consistency check must find no drift.
"""

import random

from sqlalchemy import event
from sqlmodel import Session, col, select

from orgportal.adapters.billing import TestModeBilling
from orgportal.models import (
    Link,
    Membership,
    Organization,
    OrganizationCounter,
    OutboxMessage,
    StoredFile,
    Subscription,
    User,
)
from orgportal.services import (
    account_settings,
    accounts,
    billing,
    files,
    invitations,
    links,
    members,
    organizations,
    usage,
    usage_counters,
)
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import PASSWORD, bulk_links, make_org, make_user, open_session

REFUSALS = (Conflict, NotFound, PermissionDenied, ValidationFailed)


def subscribe(session: Session, owner, organization_id: int | None, plan_key: str) -> None:
    gateway = TestModeBilling(session)
    if organization_id is None:
        url = billing.start_personal_checkout(
            session, gateway, user=owner, plan_key=plan_key, interval="monthly"
        )
    else:
        url = billing.start_checkout(
            session,
            gateway,
            user=owner,
            organization_id=organization_id,
            kind="plan",
            plan_key=plan_key,
        )
    billing.pay_test_checkout(session, gateway, user=owner, checkout_id=url.rsplit("/", 1)[1])


def test_no_drift_after_a_random_sequence_of_everything_that_moves_usage(session: Session):
    rng = random.Random(1616)
    people = [make_user(session) for _ in range(6)]
    orgs: list[tuple[int, object]] = []  # (organization id, owner)
    for owner in people[:3]:
        orgs.append((make_org(session, owner, f"Org {owner.id}").id, owner))
    gateway = TestModeBilling(session)
    steps: list[str] = []

    def live_people():
        return [p for p in people if session.get(User, p.id) is not None]

    def step_create_link():
        user = rng.choice(live_people())
        workspace = rng.choice([None, *_orgs_of(session, user)])
        links.create_link(
            session, user=user, organization_id=workspace, target_url="https://example.com/x"
        )
        return f"link by {user.id} in {workspace}"

    def delete_one(model, delete, id_name: str):
        """Its creator deletes a random link or file (a refusal when they left its org)."""
        rows = session.exec(select(model)).all()
        if not rows:
            return f"no {model.__name__}"
        item = rng.choice(rows)
        delete(
            session,
            user=session.get(User, item.owner_id),
            organization_id=item.organization_id,
            **{id_name: item.id},
        )
        return f"deleted {model.__name__} {item.id}"

    def step_delete_link():
        return delete_one(Link, links.delete_link, "link_id")

    def step_upload():
        user = rng.choice(live_people())
        workspace = rng.choice([None, *_orgs_of(session, user)])
        size = rng.randint(1, 4000)
        files.upload_file(
            session, user=user, organization_id=workspace, name="f.txt", data=b"x" * size
        )
        return f"{size} bytes by {user.id} in {workspace}"

    def step_delete_file():
        return delete_one(StoredFile, files.delete_file, "file_id")

    def step_join():
        org_id, owner = rng.choice(orgs)
        user = rng.choice(live_people())
        join(session, owner, org_id, user)
        return f"{user.id} joined {org_id}"

    def step_remove():
        org_id, owner = rng.choice(orgs)
        ids = [m for m in _members(session, org_id) if m != owner.id]
        if not ids:
            return "nobody to remove"
        member_id = rng.choice(ids)
        if rng.random() < 0.5:
            members.remove_member(
                session, user=owner, organization_id=org_id, member_id=member_id
            )
            return f"removed {member_id} from {org_id}"
        leaver = session.get(User, member_id)
        members.leave(session, user=leaver, organization_id=org_id)
        return f"{member_id} left {org_id}"

    def step_plan():
        org_id, owner = rng.choice(orgs)
        plan = rng.choice(["starter", "basic", "professional", "unlimited"])
        if billing.overview(session, user=owner, organization_id=org_id).plan.key == "free":
            subscribe(session, owner, org_id, plan)
            return f"{org_id} bought {plan}"
        if rng.random() < 0.5:
            billing.test_mode_cancel(
                session, gateway, user=owner, organization_id=org_id, kind="plan"
            )
            return f"{org_id} canceled"
        billing.test_mode_change_plan(
            session, gateway, user=owner, organization_id=org_id, plan_key=plan, interval="monthly"
        )
        return f"{org_id} moved to {plan}"

    def step_personal_plan():
        user = rng.choice(live_people())
        active = session.exec(
            select(Subscription).where(
                Subscription.user_id == user.id, Subscription.status == "active"
            )
        ).first()
        if active is None:
            subscribe(session, user, None, rng.choice(["starter", "unlimited"]))
            return f"{user.id} bought a personal plan"
        billing.test_mode_personal_cancel(session, gateway, user=user)
        return f"{user.id} canceled the personal plan"

    def step_delete_org():
        if len(orgs) < 2:
            return "keep one organization"
        org_id, owner = orgs.pop(rng.randrange(len(orgs)))
        name = session.get(Organization, org_id).name
        organizations.delete_organization(
            session, user=owner, organization_id=org_id, confirm_name=name, gateway=gateway
        )
        return f"deleted organization {org_id}"

    def step_delete_account():
        owners = {owner.id for _, owner in orgs}
        candidates = [p for p in live_people() if p.id not in owners]
        if len(candidates) < 2:
            return "keep the accounts"
        user = rng.choice(candidates)
        account_settings.delete_account(
            session, user=user, password=PASSWORD, confirm_email=user.email, gateway=gateway
        )
        people.remove(user)
        return f"deleted account {user.id}"

    moves = [
        (step_create_link, 8),
        (step_delete_link, 4),
        (step_upload, 5),
        (step_delete_file, 3),
        (step_join, 4),
        (step_remove, 3),
        (step_plan, 4),
        (step_personal_plan, 2),
        (step_delete_org, 1),
        (step_delete_account, 1),
    ]
    for n in range(160):
        move = rng.choices([m for m, _ in moves], weights=[w for _, w in moves])[0]
        try:
            steps.append(move())
            session.commit()
        except REFUSALS as refused:  # a limit or a rule said no: nothing may have changed
            session.rollback()
            steps.append(f"refused: {refused}")
        drift = usage_counters.check(session)
        assert drift == [], f"after step {n} ({steps[-1]}): {drift}"

    assert sum("refused" not in s for s in steps) > 100  # the sequence really moved things


def test_the_check_finds_drift_and_repair_mends_it(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    links.create_link(session, user=owner, organization_id=org.id, target_url="https://a.io")
    links.create_link(session, user=owner, organization_id=None, target_url="https://b.io")
    session.commit()
    assert usage_counters.check(session) == []
    session.exec(
        OrganizationCounter.__table__.update().values(links=7)  # type: ignore[attr-defined]
    )
    session.add(Link(organization_id=None, owner_id=owner.id, slug="uncounted", target_url="x"))
    session.commit()
    drift = usage_counters.check(session)
    assert usage_counters.Drift(f"organization {org.id}", "links", 7, 1) in drift
    assert usage_counters.Drift(f"user {owner.id}", "links", 1, 2) in drift
    assert usage_counters.repair(session) == drift
    session.commit()
    assert usage_counters.check(session) == []
    assert usage.organization_usage(session, user=owner, organization_id=org.id).usage.links == 1


def test_a_members_personal_items_move_with_the_plan_they_draw_on(session: Session):
    owner, member = make_user(session), make_user(session)
    org = make_org(session, owner)
    join(session, owner, org.id, member)
    links.create_link(session, user=member, organization_id=None, target_url="https://m.io")
    session.commit()
    pooled = usage.organization_usage(session, user=owner, organization_id=org.id).usage.links
    assert pooled == 0  # the organization is on Free: the member keeps their own pool
    subscribe(session, owner, org.id, "starter")
    session.commit()
    assert usage.organization_usage(session, user=owner, organization_id=org.id).usage.links == 1
    members.leave(session, user=member, organization_id=org.id)
    session.commit()
    assert usage.organization_usage(session, user=owner, organization_id=org.id).usage.links == 0
    assert usage_counters.personal_totals(session, member.id).links == 1


def test_a_usage_read_costs_the_same_statements_for_10_or_1000_links(session: Session, engine):
    owner = make_user(session)
    small, big = make_org(session, owner, "Small"), make_org(session, owner, "Big")
    bulk_links(session, owner=owner, organization_id=small.id, count=10, prefix="s")
    subscribe(session, owner, big.id, "unlimited")
    session.commit()
    bulk_links(session, owner=owner, organization_id=big.id, count=1000, prefix="b")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def statements_for(org_id: int) -> list[str]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            view = usage.organization_usage(session, user=owner, organization_id=org_id)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert view.usage.links in (10, 1000)
        return list(statements)

    small_reads, big_reads = statements_for(small.id), statements_for(big.id)
    assert len(small_reads) == len(big_reads)
    assert not any("FROM link" in s for s in big_reads)  # no count over the links


def join(session: Session, owner, organization_id: int, user) -> None:
    """Invite, then accept with the token from the mail, as the invitee does."""
    invitations.create_invite(
        session, user=owner, organization_id=organization_id, email=user.email, role="agent"
    )
    mail = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == user.email)
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    raw, _ = open_session(session, user)
    viewer = accounts.authenticate(session, raw)
    invitations.accept_invite(session, viewer=viewer, token=mail.link.rsplit("/", 1)[-1])


def _orgs_of(session: Session, user) -> list[int]:
    return list(session.exec(select(Membership.organization_id).where(Membership.user_id == user.id)))


def _members(session: Session, org_id: int) -> list[int]:
    return list(session.exec(select(Membership.user_id).where(Membership.organization_id == org_id)))
