"""Effective plans, pooled usage, limits and the live-change announcement (SPEC §6, §7)."""

import threading

import pytest
from sqlmodel import Session, func, select

from orgportal import db
from orgportal.adapters.billing import TestModeBilling
from orgportal.adapters.live import InProcessBus
from orgportal.config import settings
from orgportal.models import Link, Role, StoredFile, Subscription
from orgportal.services import billing, files, links, usage, usage_counters
from orgportal.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.conftest import PG_URL
from tests.factories import add_member, bulk_links, make_org, make_user

MB = 1024 * 1024


def subscribe(session: Session, owner, org, plan_key: str = "starter") -> None:
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key=plan_key
    )
    billing.pay_test_checkout(session, gateway, user=owner, checkout_id=url.rsplit("/", 1)[1])
    session.commit()


def personal_plan(session: Session, user, plan_key: str = "basic") -> None:
    """A personal subscription as the webhook would record it (personal checkout has no UI yet)."""
    session.add(
        Subscription(
            user_id=user.id,
            kind="plan",
            plan_key=plan_key,
            status="active",
            stripe_subscription_id=f"sub_personal_{user.id}",
        )
    )
    session.flush()
    usage_counters.resync(session, [user.id])  # as the webhook's `_apply_personal` does
    session.commit()


def link(session: Session, user, org_id, n: int = 0) -> Link:
    created = links.create_link(
        session, user=user, organization_id=org_id, target_url=f"https://example.com/{n}"
    )
    session.commit()
    return created


def org_usage(session: Session, user, org) -> usage.OrganizationUsage:
    return usage.organization_usage(session, user=user, organization_id=org.id)


def test_members_draw_on_a_paid_organization_plan_unless_they_have_their_own(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    drawing = add_member(session, org, Role.AGENT)
    independent = add_member(session, org, Role.AGENT)
    personal_plan(session, independent)

    link(session, drawing, None)  # personal items, before the org pays: not in its pool
    link(session, independent, None)
    link(session, owner, org.id)
    assert org_usage(session, owner, org).usage.links == 1  # Free org: nobody draws on it

    subscribe(session, owner, org)
    assert usage.effective_plans(session, [drawing.id])[drawing.id].organization_id == org.id
    assert usage.effective_plans(session, [independent.id])[independent.id].plan.key == "basic"
    current = org_usage(session, owner, org)
    assert (current.plan.key, current.usage.links) == ("starter", 2)  # org item + drawing member's
    assert current.plan.links == 500


def test_a_member_of_two_paid_organizations_draws_on_the_higher_tier(session: Session):
    owner_a, owner_b = make_user(session), make_user(session)
    starter_org = make_org(session, owner_a, "Starter Org")
    pro_org = make_org(session, owner_b, "Pro Org")
    subscribe(session, owner_a, starter_org, "starter")
    subscribe(session, owner_b, pro_org, "professional")
    member = add_member(session, starter_org, Role.VIEWER)
    add_member(session, pro_org, Role.VIEWER, member)

    source = usage.effective_plans(session, [member.id])[member.id]
    assert (source.plan.key, source.organization_id) == ("professional", pro_org.id)
    link(session, member, None)
    assert org_usage(session, owner_b, pro_org).usage.links == 1
    assert org_usage(session, owner_a, starter_org).usage.links == 0


def test_the_limit_is_refused_with_its_number_and_nothing_is_half_created(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    bulk_links(session, owner=owner, organization_id=org.id, count=50, prefix="seed")
    with pytest.raises(Conflict, match="the Free plan allows 50 links"):
        links.create_link(
            session, user=owner, organization_id=org.id, target_url="https://example.com"
        )
    session.rollback()
    assert org_usage(session, owner, org).usage.links == 50


def test_a_drawing_members_personal_link_counts_against_the_full_organization_pool(
    session: Session,
):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)
    member = add_member(session, org, Role.VIEWER)
    bulk_links(session, owner=owner, organization_id=org.id, count=500, prefix="s")
    with pytest.raises(Conflict, match="Starter plan allows 500 links"):
        links.create_link(session, user=member, organization_id=None, target_url="https://a.io")


def test_storage_limit_and_no_bytes_left_behind(session: Session, tmp_path):
    owner = make_user(session)
    org = make_org(session, owner)
    files.upload_file(
        session,
        user=owner,
        organization_id=org.id,
        name="a.bin",
        data=b"a" * (40 * MB),
    )
    files.upload_file(
        session,
        user=owner,
        organization_id=org.id,
        name="b.bin",
        data=b"b" * (40 * MB),
    )
    session.commit()
    with pytest.raises(Conflict, match="Storage limit reached: the Free plan allows 100 MB"):
        files.upload_file(
            session,
            user=owner,
            organization_id=org.id,
            name="c.bin",
            data=b"c" * (30 * MB),
        )
    session.rollback()
    assert len(list(settings.files_dir.iterdir())) == 2
    assert org_usage(session, owner, org).usage.storage_bytes == 80 * MB
    assert usage.human_bytes(80 * MB) == "80 MB" and usage.human_bytes(1536) == "1.5 KB"


def test_usage_equals_the_real_totals_after_creates_deletes_and_failures(
    session: Session, tmp_path
):
    owner = make_user(session)
    org = make_org(session, owner)
    created = [link(session, owner, org.id, n) for n in range(5)]
    links.delete_link(session, user=owner, organization_id=org.id, link_id=created[0].id)
    with pytest.raises(ValidationFailed):
        links.create_link(session, user=owner, organization_id=org.id, target_url="ftp://x")
    kept = files.upload_file(
        session,
        user=owner,
        organization_id=org.id,
        name="k.txt",
        data=b"12345",
    )
    gone = files.upload_file(
        session,
        user=owner,
        organization_id=org.id,
        name="g.txt",
        data=b"123",
    )
    files.delete_file(
        session, user=owner, organization_id=org.id, file_id=gone.id
    )
    session.commit()
    real_links = session.exec(select(func.count()).select_from(Link)).one()
    real_bytes = session.exec(select(func.sum(StoredFile.size_bytes))).one()
    current = org_usage(session, owner, org).usage
    assert (
        (current.links, current.storage_bytes) == (real_links, real_bytes) == (4, kept.size_bytes)
    )


def test_link_rules_and_refusals(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    agent = add_member(session, org, Role.AGENT)
    admin = add_member(session, org, Role.ADMIN)
    outsider = make_user(session)

    def create(user, org_id=org.id, **kw):
        args = {"target_url": "https://example.com/page", **kw}
        return links.create_link(session, user=user, organization_id=org_id, **args)

    with pytest.raises(PermissionDenied):
        create(viewer)
    with pytest.raises(NotFound):
        create(outsider)
    with pytest.raises(ValidationFailed) as bad:
        create(owner, target_url="javascript:alert(1)", slug="Login")
    assert set(bad.value.errors) == {"target_url", "slug"}
    mine = create(agent, slug="Spring-Sale")
    session.commit()
    assert mine.slug == "spring-sale" and links.resolve(session, "SPRING-SALE") == mine.target_url
    with pytest.raises(Conflict, match="already taken"):
        create(owner, slug="spring-sale")
    session.rollback()
    other_agent = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        links.delete_link(session, user=other_agent, organization_id=org.id, link_id=mine.id)
    with pytest.raises(NotFound):  # another workspace's id tells nothing
        links.delete_link(session, user=outsider, organization_id=None, link_id=mine.id)
    links.delete_link(session, user=admin, organization_id=org.id, link_id=mine.id)
    assert links.list_links(session, user=viewer, organization_id=org.id) == ([], 0)


def test_personal_files_stay_private(session: Session, tmp_path):
    alice, bob = make_user(session), make_user(session)
    secret = files.upload_file(
        session,
        user=alice,
        organization_id=None,
        name="../../etc/passwd",
        data=b"x",
    )
    session.commit()
    assert secret.name == "passwd"
    with pytest.raises(NotFound):
        files.get_file(session, user=bob, file_id=secret.id)
    assert files.list_files(session, user=bob, organization_id=None) == ([], 0)


def test_changes_are_announced_only_after_commit(engine, monkeypatch):
    announced: list[set[int]] = []

    class Recorder(InProcessBus):
        def publish(self, organization_ids):
            announced.append(set(organization_ids))

    monkeypatch.setattr(db, "bus", lambda: Recorder())
    with db.unit_of_work(engine) as session:
        owner = make_user(session)
        org = make_org(session, owner)
    with db.unit_of_work(engine) as session:
        links.create_link(session, user=owner, organization_id=org.id, target_url="https://a.io")
    # the usage bars, and the organization's rows for the REST read caches
    assert announced[-1] == {("usage", org.id), (db.ORG_ROWS, org.id)}
    before = list(announced)
    with pytest.raises(RuntimeError), db.unit_of_work(engine) as session:
        links.create_link(session, user=owner, organization_id=org.id, target_url="https://b.io")
        raise RuntimeError("rolled back")
    assert announced == before  # nothing announced for what was rolled back


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_members_racing_for_the_last_slot_never_pass_the_limit(engine, session):
    owner = make_user(session)
    org = make_org(session, owner)
    bulk_links(session, owner=owner, organization_id=org.id, count=48, prefix="r")
    racers = [add_member(session, org, Role.AGENT) for _ in range(10)]
    outcomes = race_for_links(engine, racers, organization_id=org.id)
    assert outcomes.count("ok") == 2 and outcomes.count("full") == 8
    assert org_usage(session, owner, org).usage.links == 50


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_drawing_members_racing_with_personal_links_never_pass_the_pool(engine, session):
    """Personal links of members who draw on the plan count in the organization's pool
    (through their counters' `drawn_by`): the pool's lock still lets exactly the free slots
    through, and the counters agree with the rows afterwards."""
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org)  # Starter: 500 links
    bulk_links(session, owner=owner, organization_id=org.id, count=497, prefix="p")
    racers = [add_member(session, org, Role.VIEWER) for _ in range(10)]
    outcomes = race_for_links(engine, racers, organization_id=None)  # their personal links
    assert outcomes.count("ok") == 3 and outcomes.count("full") == 7
    assert org_usage(session, owner, org).usage.links == 500
    assert usage_counters.check(session) == []


def race_for_links(engine, racers, *, organization_id: int | None) -> list[str]:
    """Every racer creates a link at the same moment, each in its own session and thread;
    "ok" or "full" per racer."""
    barrier = threading.Barrier(len(racers))
    outcomes: list[str] = []

    def attempt(user) -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                links.create_link(
                    own, user=user, organization_id=organization_id, target_url="https://r.io"
                )
                own.commit()
                outcomes.append("ok")
            except Conflict:
                outcomes.append("full")

    threads = [threading.Thread(target=attempt, args=(u,)) for u in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_bars_and_the_owners_notice_at_80_and_100_percent():
    assert usage.percent(40, 50) == 80 and usage.percent(70, 50) == 100
    assert usage.percent(10**9, None) == 0  # unlimited is never full
    assert usage.limit_notice(79, 10) == ""
    assert usage.limit_notice(80, 10) == "You have used 80 % of your links limit."
    assert usage.limit_notice(20, 100).startswith("You have reached your storage limit")


def test_the_live_push_reads_usage_and_the_current_members(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    link(session, agent, org.id)
    view, members = usage.usage_for_watchers(session, org.id)
    assert (view.usage.links, members) == (1, {owner.id, agent.id})
    assert usage.usage_for_watchers(session, 999_999) == (None, set())
