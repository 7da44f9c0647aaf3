"""Link approval (SPEC §14): with `require_approval_for_links` on, Agents' and Billing
Admins' links start pending — counted in usage, not redirecting — until an Owner/Admin
approves; rejecting deletes the link and mails its creator; both are audited."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal import db
from orgportal.api import build_api
from orgportal.models import Link, Organization, OutboxMessage, Role
from orgportal.services import link_approval, links, usage
from orgportal.services.errors import Conflict, NotFound, PermissionDenied
from orgportal.services.permissions import capabilities
from tests.factories import add_member, audit_actions, make_org, make_user


def approval_org(session: Session, on: bool = True):
    owner = make_user(session, f"owner-{on}@example.com")
    org = make_org(session, owner)
    org.require_approval_for_links = on
    session.add(org)
    session.commit()
    return owner, org


def create(session: Session, user, org_id, slug: str) -> Link:
    made = links.create_link(
        session, user=user, organization_id=org_id, target_url="https://example.com/t", slug=slug
    )
    session.commit()
    return made


@pytest.mark.parametrize(
    "role, pending",
    [
        (Role.AGENT, True),
        (Role.BILLING_ADMIN, True),
        (Role.ADMIN, False),
        (Role.OWNER, False),
    ],
)
def test_which_roles_links_start_pending(session: Session, role, pending):
    owner, org = approval_org(session)
    user = owner if role == Role.OWNER else add_member(session, org, role)
    made = create(session, user, org.id, f"r-{role.value.replace('_', '-')}")
    assert made.pending_approval is pending
    assert (links.resolve(session, made.slug) is None) is pending
    assert links.awaiting_approval(session, made.slug) is pending


def test_without_the_setting_and_in_personal_workspaces_nothing_is_pending(session: Session):
    owner, org = approval_org(session, on=False)
    agent = add_member(session, org, Role.AGENT)
    assert not create(session, agent, org.id, "agent-link").pending_approval
    assert not create(session, agent, None, "personal-link").pending_approval


def test_the_personal_workspace_has_no_queue_to_approve_from(session: Session):
    """Its links exist, they never wait: a conflict with the workspace, not a missing link."""
    owner, _ = approval_org(session)
    mine = create(session, owner, None, "mine-link")
    with pytest.raises(Conflict, match="no approval queue"):
        link_approval.approve_link(session, user=owner, organization_id=None, link_id=mine.id)
    with pytest.raises(Conflict, match="no approval queue"):
        link_approval.list_pending(session, user=owner, organization_id=None)


def test_pending_links_count_toward_usage(session: Session):
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    create(session, agent, org.id, "counted")
    view = usage.organization_usage(session, user=owner, organization_id=org.id)
    assert view.usage.links == 1


def test_an_admin_approves_and_the_link_redirects(session: Session):
    owner, org = approval_org(session)
    admin = add_member(session, org, Role.ADMIN)
    agent = add_member(session, org, Role.AGENT)
    made = create(session, agent, org.id, "waiting")
    found, total = link_approval.list_pending(session, user=admin, organization_id=org.id)
    assert total == 1 and found[0][0].id == made.id and found[0][1] == agent.email
    assert link_approval.pending_count(session, org.id) == 1
    link_approval.approve_link(session, user=admin, organization_id=org.id, link_id=made.id)
    session.commit()
    assert links.resolve(session, "waiting") == "https://example.com/t"
    assert made.approved_by_id == admin.id and made.approved_at is not None
    assert link_approval.pending_count(session, org.id) == 0
    assert audit_actions(session, org.id)[-1] == "link.approved"
    with pytest.raises(NotFound):  # approved once; no second time
        link_approval.approve_link(session, user=admin, organization_id=org.id, link_id=made.id)


def test_rejecting_deletes_the_link_and_tells_its_creator(session: Session):
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    made = create(session, agent, org.id, "unwanted")
    link_approval.reject_link(
        session, user=owner, organization_id=org.id, link_id=made.id, reason="Off brand"
    )
    session.commit()
    assert session.get(Link, made.id) is None
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "link_rejected")).one()
    assert mail.to_address == agent.email
    assert "/unwanted" in mail.subject and "Off brand" in mail.body_text
    assert audit_actions(session, org.id)[-1] == "link.rejected"
    assert usage.organization_usage(session, user=owner, organization_id=org.id).usage.links == 0


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owner_and_admin_decide(session: Session, role):
    owner, org = approval_org(session)
    member = add_member(session, org, role)
    agent = add_member(session, org, Role.AGENT)
    made = create(session, agent, org.id, "decide-me")
    for decide in (link_approval.approve_link, link_approval.reject_link):
        with pytest.raises(PermissionDenied):
            decide(session, user=member, organization_id=org.id, link_id=made.id)
    with pytest.raises(PermissionDenied):
        link_approval.list_pending(session, user=member, organization_id=org.id)
    assert not capabilities(session, member, org.id).approve_links
    assert capabilities(session, owner, org.id).approve_links
    assert session.get(Link, made.id).pending_approval


def test_other_organizations_links_cannot_be_decided(session: Session):
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    made = create(session, agent, org.id, "ours")
    stranger = make_user(session)
    theirs = make_org(session, stranger, "Other Org")
    for decide in (link_approval.approve_link, link_approval.reject_link):
        with pytest.raises(NotFound):  # their own organization, our link's id
            decide(session, user=stranger, organization_id=theirs.id, link_id=made.id)
        with pytest.raises(NotFound):  # our organization, which they are not in
            decide(session, user=stranger, organization_id=org.id, link_id=made.id)
    with pytest.raises(Conflict):  # the Personal Workspace: no queue, whatever the id
        link_approval.approve_link(session, user=stranger, organization_id=None, link_id=made.id)
    assert session.get(Link, made.id).pending_approval


def test_turning_the_setting_off_approves_nothing(session: Session):
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    made = create(session, agent, org.id, "still-waiting")
    org = session.get(Organization, org.id)
    org.require_approval_for_links = False
    session.add(org)
    session.commit()
    assert session.get(Link, made.id).pending_approval
    assert link_approval.pending_count(session, org.id) == 1
    assert not create(session, agent, org.id, "new-one").pending_approval


def test_queue_changes_are_announced_live(session: Session, monkeypatch):
    published: list[set] = []

    class Recorder:
        def publish(self, changes):
            published.append(set(changes))

    monkeypatch.setattr(db, "bus", lambda: Recorder())
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    with db.unit_of_work(session.get_bind()) as work:
        made = links.create_link(
            work, user=agent, organization_id=org.id, target_url="https://example.com/a"
        )
    assert ("approvals", org.id) in published[-1]
    with db.unit_of_work(session.get_bind()) as work:
        link_approval.approve_link(work, user=owner, organization_id=org.id, link_id=made.id)
    assert ("approvals", org.id) in published[-1]


def test_pending_links_do_not_redirect_over_http(session: Session, engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    create(session, agent, org.id, "held-back")
    client = TestClient(build_api())
    browser = client.get(
        "/l/held-back",
        headers={"Accept": "text/html", "User-Agent": "Mozilla/5.0 Firefox/130.0"},
        follow_redirects=False,
    )
    assert browser.status_code == 200 and "awaiting approval" in browser.text
    assert "location" not in browser.headers
    api = client.get("/l/held-back", headers={"Accept": "application/json"}, follow_redirects=False)
    assert api.status_code == 404 and api.json()["detail"] == "This link is awaiting approval."
    bot = client.get(
        "/l/held-back",
        headers={"Accept": "text/html", "User-Agent": "Googlebot/2.1"},
        follow_redirects=False,
    )
    assert bot.status_code == 404


def test_the_nav_badge_counts_for_owners_and_admins_only(session: Session):
    from orgportal.state import approval_badge

    owner, org = approval_org(session)
    agent = add_member(session, org, Role.AGENT)
    create(session, agent, org.id, "badge-one")
    count = approval_badge.count_and_watch(
        session, organization_id=org.id, may_approve=True, token="tab-1", user_id=owner.id
    )
    assert count == 1 and approval_badge.watching(org.id) == ["tab-1"]
    # the same tab now shows an Agent's view (or another workspace): no count, not watched
    assert (
        approval_badge.count_and_watch(
            session, organization_id=org.id, may_approve=False, token="tab-1", user_id=agent.id
        )
        == 0
    )
    assert approval_badge.watching(org.id) == []
