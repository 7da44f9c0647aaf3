"""Company domains and join by domain (SPEC §16): names, plan gating, DNS verification against
a real (local) DNS server, one organization per verified domain, the join policies, seats,
join requests, refusals and permissions."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal.adapters.billing import TestModeBilling
from orgportal.config import settings
from orgportal.models import (
    CompanyDomain,
    DomainStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    OutboxMessage,
    Role,
    Subscription,
)
from orgportal.models.base import utcnow
from orgportal.services import company_domains, members, organizations
from orgportal.services.accounts import Viewer
from orgportal.services.errors import (
    Conflict,
    NoSeatsAvailable,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.validation import FieldError
from tests.dns_server import LocalDns
from tests.factories import add_member, audit_actions, make_org, make_user, open_session


def subscribe(session: Session, org, plan_key: str) -> Subscription:
    row = Subscription(
        organization_id=org.id,
        kind="plan",
        plan_key=plan_key,
        status="active",
        stripe_subscription_id=f"sub_{org.id}_{plan_key}",
    )
    session.add(row)
    session.commit()
    return row


def support_seats(session: Session, org, quantity: int) -> None:
    session.add(
        Subscription(
            organization_id=org.id,
            kind="support",
            plan_key="",
            status="active",
            quantity=quantity,
            stripe_subscription_id=f"sub_{org.id}_support",
        )
    )
    session.commit()


@pytest.fixture
def team(session):
    owner = make_user(session, "owner@acme.com")
    org = make_org(session, owner, "Acme")
    subscribe(session, org, "unlimited")
    return owner, org


def publish(dns: LocalDns, row: CompanyDomain) -> None:
    dns.set_txt(f"_orgportal.{row.domain}", f"orgportal-verify={row.token}")


def verified(session, dns, owner, org, domain="acme.com") -> CompanyDomain:
    row = company_domains.add_domain(session, user=owner, organization_id=org.id, domain=domain)
    publish(dns, row)
    company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    return row


def viewer_of(session, user) -> Viewer:
    _, row = open_session(session, user)
    session.commit()
    return Viewer(user=user, session=row)


def set_policy(session, owner, org, policy, role="agent"):
    company_domains.set_join_policy(
        session, user=owner, organization_id=org.id, policy=policy, default_role=role
    )
    session.commit()


def is_member(session, user, org) -> bool:
    return (
        session.exec(
            select(Membership).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        ).first()
        is not None
    )


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.com. ", "acme.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("acme.co.uk", "acme.co.uk"),
        ("ada@Acme.com", "acme.com"),  # an address pasted: its domain
    ],
)
def test_normalizes_to_idna_lower_case(raw, expected):
    assert company_domains.normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("gmail.com", "free email provider"),
        ("Outlook.com", "free email provider"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("https://acme.com/", "just the domain"),
        ("*.acme.com", "without wildcards"),
        ("acme", "full domain name"),
        ("127.0.0.1", "not an IP address"),
        ("", "Enter a domain"),
    ],
)
def test_refuses_what_nobody_owns_and_what_is_no_domain(raw, says):
    with pytest.raises(FieldError, match=says):
        company_domains.normalize(raw)


def test_email_domain():
    assert company_domains.email_domain("Ada@Bücher.de") == "xn--bcher-kva.de"
    assert company_domains.email_domain("no-at-sign") == ""


# --- plan gating and permissions --------------------------------------------------------------


@pytest.mark.parametrize("plan_key", [None, "starter", "professional"])
def test_locked_below_unlimited_with_the_plan_named(session, plan_key):
    owner = make_user(session)
    org = make_org(session, owner)
    if plan_key:
        subscribe(session, org, plan_key)
    current = company_domains.get_settings(session, user=owner, organization_id=org.id)
    assert not current.available
    assert current.locked_reason == (
        "Company domains and join by domain are available on the Unlimited plan."
    )
    with pytest.raises(company_domains.FeatureLocked):
        company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    with pytest.raises(company_domains.FeatureLocked):
        company_domains.set_join_policy(
            session, user=owner, organization_id=org.id, policy="automatic", default_role="agent"
        )
    session.rollback()
    assert session.exec(select(CompanyDomain)).all() == []


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owner_and_admins_manage_company_domains(session, team, role):
    owner, org = team
    member = add_member(session, org, role)
    with pytest.raises(PermissionDenied):
        company_domains.add_domain(session, user=member, organization_id=org.id, domain="acme.com")
    with pytest.raises(PermissionDenied):
        company_domains.list_domains(session, user=member, organization_id=org.id)
    with pytest.raises(PermissionDenied):
        company_domains.set_join_policy(
            session, user=member, organization_id=org.id, policy="automatic", default_role="agent"
        )
    with pytest.raises(PermissionDenied):
        company_domains.list_requests(session, user=member, organization_id=org.id)


def test_an_admin_manages_them_and_outsiders_see_nothing(session, team, dns):
    owner, org = team
    admin = add_member(session, org, Role.ADMIN)
    row = company_domains.add_domain(session, user=admin, organization_id=org.id, domain="acme.com")
    session.commit()
    outsider = make_user(session)
    other = make_org(session, outsider, "Other")
    with pytest.raises(NotFound):
        company_domains.list_domains(session, user=outsider, organization_id=org.id)
    with pytest.raises(NotFound):  # another organization's domain id reads as missing
        company_domains.verify_domain(
            session, user=outsider, organization_id=other.id, domain_id=row.id
        )
    with pytest.raises(NotFound):
        company_domains.remove_domain(
            session, user=outsider, organization_id=other.id, domain_id=row.id
        )


# --- adding and verifying ---------------------------------------------------------------------


def test_add_then_verify_through_dns(session, team, dns):
    owner, org = team
    row = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="Acme.com")
    session.commit()
    assert (row.domain, row.status, len(row.token)) == ("acme.com", DomainStatus.PENDING, 32)
    rows, total = company_domains.list_domains(session, user=owner, organization_id=org.id)
    assert [r.domain for r in rows] == ["acme.com"] and total == 1

    # no record yet: still pending, not failed
    company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    assert row.status == DomainStatus.PENDING and row.failure_reason == "not found yet"

    # a record with another value: failed, saying what was found
    dns.set_txt("_orgportal.acme.com", "orgportal-verify=somebody-else")
    company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    assert row.status == DomainStatus.FAILED and "somebody-else" in row.failure_reason
    assert "Verification failed" in company_domains.status_note(session, row)

    publish(dns, row)
    company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    assert row.status == DomainStatus.VERIFIED and row.verified_at is not None
    assert company_domains.organization_for_email(session, "Bob@ACME.com").id == org.id
    assert company_domains.organization_for_email(session, "bob@eu.acme.com") is None
    assert company_domains.organization_for_email(session, "bob@gmail.com") is None
    actions = audit_actions(session, org.id)
    assert "company_domain.added" in actions and "company_domain.verified" in actions
    assert "company_domain.failed" in actions


def test_a_dns_server_that_does_not_answer_changes_nothing(session, team, monkeypatch):
    owner, org = team
    row = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    session.commit()
    monkeypatch.setattr(settings, "dns_resolver", "127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(company_domains.custom_domains, "DNS_TIMEOUT_SECONDS", 0.5)
    with pytest.raises(Conflict, match="did not answer"):
        company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    assert row.status == DomainStatus.PENDING and row.checked_at is None


def test_adding_the_same_domain_twice_is_refused(session, team):
    owner, org = team
    company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    session.commit()
    with pytest.raises(ValidationFailed, match="already one of your company domains"):
        company_domains.add_domain(session, user=owner, organization_id=org.id, domain="ACME.com")


def test_one_organization_at_a_time(session, team, dns):
    owner, org = team
    theirs = verified(session, dns, owner, org)
    rival = make_user(session, "rival@example.org")
    other = make_org(session, rival, "Rival")
    subscribe(session, other, "unlimited")
    # a second organization may add it (pending), but not verify it while it is held
    mine = company_domains.add_domain(
        session, user=rival, organization_id=other.id, domain="acme.com"
    )
    session.commit()
    publish(dns, mine)
    assert "Another organization has verified" in company_domains.status_note(session, mine)
    with pytest.raises(Conflict, match="verified by another organization"):
        company_domains.verify_domain(
            session, user=rival, organization_id=other.id, domain_id=mine.id
        )
    session.rollback()
    assert session.get(CompanyDomain, mine.id).status == DomainStatus.PENDING

    # once the holder removes it, the other organization can verify it
    company_domains.remove_domain(session, user=owner, organization_id=org.id, domain_id=theirs.id)
    session.commit()
    assert "company_domain.removed" in audit_actions(session, org.id)
    company_domains.verify_domain(session, user=rival, organization_id=other.id, domain_id=mine.id)
    session.commit()
    assert company_domains.organization_for_email(session, "x@acme.com").id == other.id


def test_the_database_refuses_two_verified_rows_for_one_domain(session, team, dns):
    """The race the check cannot see: the partial unique index refuses the second."""
    owner, org = team
    verified(session, dns, owner, org)
    rival = make_user(session)
    other = make_org(session, rival, "Rival")
    session.add(
        CompanyDomain(
            organization_id=other.id, domain="acme.com", token="t", status=DomainStatus.VERIFIED
        )
    )
    with pytest.raises(Exception, match="(?i)unique"):
        session.commit()
    session.rollback()


# --- the join policy --------------------------------------------------------------------------


def test_join_policy_is_validated_and_audited(session, team):
    owner, org = team
    with pytest.raises(ValidationFailed):
        company_domains.set_join_policy(
            session, user=owner, organization_id=org.id, policy="sometimes", default_role="agent"
        )
    with pytest.raises(ValidationFailed, match="Choose Admin"):
        company_domains.set_join_policy(
            session, user=owner, organization_id=org.id, policy="automatic", default_role="owner"
        )
    current = company_domains.set_join_policy(
        session, user=owner, organization_id=org.id, policy="automatic", default_role="agent"
    )
    session.commit()
    assert (current.policy, current.default_role) == ("automatic", "agent")
    assert "company_domain.join_policy_changed" in audit_actions(session, org.id)


# --- joining ----------------------------------------------------------------------------------


def test_no_offer_before_verification_with_policy_off_or_unconfirmed(session, team, dns):
    owner, org = team
    row = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    set_policy(session, owner, org, "automatic")
    bob = make_user(session, "bob@acme.com")
    assert company_domains.join_offer(session, bob) is None  # pending domain
    publish(dns, row)
    company_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    assert company_domains.join_offer(session, bob).organization_name == "Acme"
    unconfirmed = make_user(session, "carol@acme.com", confirmed=False)
    assert company_domains.join_offer(session, unconfirmed) is None
    with pytest.raises(PermissionDenied, match="Confirm your email"):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, unconfirmed), organization_id=org.id
        )
    set_policy(session, owner, org, "off")
    assert company_domains.join_offer(session, bob) is None
    with pytest.raises(PermissionDenied, match="does not offer"):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, bob), organization_id=org.id
        )
    assert not is_member(session, bob, org)


def test_automatic_join_with_the_default_role(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic", "agent")
    bob = make_user(session, "bob@acme.com")
    offer = company_domains.join_offer(session, bob)
    assert (offer.policy, offer.role, offer.domain, offer.requested) == (
        "automatic", "Agent", "acme.com", False,
    )  # fmt: skip
    viewer = viewer_of(session, bob)
    assert company_domains.join_by_domain(session, viewer=viewer, organization_id=org.id) is True
    session.commit()
    membership = session.exec(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == bob.id)
    ).one()
    assert membership.role == Role.AGENT
    assert viewer.session.active_org_id == org.id  # the organization opens
    assert company_domains.join_offer(session, bob) is None  # a member now
    assert "member.joined" in audit_actions(session, org.id)
    # the Owner hears of it as of any joiner (SPEC §17 notifications)
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.to_address == "owner@acme.com"))
    assert any("joined Acme" in m.subject for m in mail)
    with pytest.raises(Conflict, match="already a member"):
        company_domains.join_by_domain(session, viewer=viewer, organization_id=org.id)


def test_an_address_at_another_domain_cannot_join(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    eve = make_user(session, "eve@evil.example")
    with pytest.raises(PermissionDenied):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, eve), organization_id=org.id
        )
    assert not is_member(session, eve, org)


def test_automatic_join_takes_a_seat_and_is_refused_when_none_is_free(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    support_seats(session, org, 2)  # the owner's and one more
    bob, carol = make_user(session, "bob@acme.com"), make_user(session, "carol@acme.com")
    company_domains.join_by_domain(session, viewer=viewer_of(session, bob), organization_id=org.id)
    session.commit()
    with pytest.raises(NoSeatsAvailable):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, carol), organization_id=org.id
        )
    session.rollback()
    assert not is_member(session, carol, org)


def test_join_by_request_then_an_admin_approves(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "request", "viewer")
    bob = make_user(session, "bob@acme.com")
    viewer = viewer_of(session, bob)
    assert company_domains.join_by_domain(session, viewer=viewer, organization_id=org.id) is False
    session.commit()
    assert company_domains.join_by_domain(session, viewer=viewer, organization_id=org.id) is False
    session.commit()  # asking twice changes nothing
    assert not is_member(session, bob, org)
    assert company_domains.join_offer(session, bob).requested is True
    mail = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == "owner@acme.com")
    ).all()
    assert any("asks to join Acme" in m.subject for m in mail)

    requests, total = company_domains.list_requests(session, user=owner, organization_id=org.id)
    assert total == 1 and [r.email for r in requests] == ["bob@acme.com"]
    admin = add_member(session, org, Role.ADMIN)
    company_domains.approve_request(
        session, user=admin, organization_id=org.id, request_id=requests[0].id
    )
    session.commit()
    assert is_member(session, bob, org)
    assert company_domains.list_requests(session, user=owner, organization_id=org.id)[1] == 0
    with pytest.raises(Conflict, match="already approved"):
        company_domains.approve_request(
            session, user=owner, organization_id=org.id, request_id=requests[0].id
        )
    actions = audit_actions(session, org.id)
    assert "member.join_requested" in actions and "member.joined" in actions


def test_a_declined_request_is_not_offered_again(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "request")
    bob = make_user(session, "bob@acme.com")
    company_domains.join_by_domain(session, viewer=viewer_of(session, bob), organization_id=org.id)
    session.commit()
    (request,), _ = company_domains.list_requests(session, user=owner, organization_id=org.id)
    company_domains.decline_request(
        session, user=owner, organization_id=org.id, request_id=request.id
    )
    session.commit()
    assert company_domains.join_offer(session, bob) is None
    assert not is_member(session, bob, org)
    assert "member.join_declined" in audit_actions(session, org.id)


def test_approving_needs_a_free_seat(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "request")
    support_seats(session, org, 1)  # the owner's alone
    bob = make_user(session, "bob@acme.com")
    company_domains.join_by_domain(session, viewer=viewer_of(session, bob), organization_id=org.id)
    session.commit()
    (request,), _ = company_domains.list_requests(session, user=owner, organization_id=org.id)
    with pytest.raises(NoSeatsAvailable):
        company_domains.approve_request(
            session, user=owner, organization_id=org.id, request_id=request.id
        )
    session.rollback()
    assert session.get(JoinRequest, request.id).status == JoinRequestStatus.PENDING
    assert not is_member(session, bob, org)


def test_only_owner_and_admins_decide_requests_of_their_own_organization(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "request")
    bob = make_user(session, "bob@acme.com")
    company_domains.join_by_domain(session, viewer=viewer_of(session, bob), organization_id=org.id)
    session.commit()
    (request,), _ = company_domains.list_requests(session, user=owner, organization_id=org.id)
    agent = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        company_domains.approve_request(
            session, user=agent, organization_id=org.id, request_id=request.id
        )
    stranger = make_user(session)
    elsewhere = make_org(session, stranger, "Elsewhere")
    subscribe(session, elsewhere, "unlimited")
    with pytest.raises(NotFound):
        company_domains.approve_request(
            session, user=stranger, organization_id=elsewhere.id, request_id=request.id
        )
    with pytest.raises(NotFound):
        company_domains.decline_request(
            session, user=stranger, organization_id=elsewhere.id, request_id=request.id
        )


def test_not_now_hides_the_offer(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    bob = make_user(session, "bob@acme.com")
    company_domains.dismiss_offer(session, user=bob, organization_id=org.id)
    session.commit()
    assert company_domains.join_offer(session, bob) is None


def test_a_plan_without_the_feature_offers_nothing(session, team, dns):
    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    bob = make_user(session, "bob@acme.com")
    plan = session.exec(select(Subscription).where(Subscription.organization_id == org.id)).one()
    plan.plan_key = "professional"
    session.add(plan)
    session.commit()
    assert company_domains.join_offer(session, bob) is None
    with pytest.raises(PermissionDenied):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, bob), organization_id=org.id
        )
    # what was added can still be removed, and the policy turned off
    rows, _ = company_domains.list_domains(session, user=owner, organization_id=org.id)
    company_domains.set_join_policy(
        session, user=owner, organization_id=org.id, policy="off", default_role="agent"
    )
    company_domains.remove_domain(session, user=owner, organization_id=org.id, domain_id=rows[0].id)
    session.commit()


def test_a_removed_member_is_not_let_back_in_and_one_who_left_not_asked_again(session, team, dns):

    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    bob, carol = make_user(session, "bob@acme.com"), make_user(session, "carol@acme.com")
    for person in (bob, carol):
        company_domains.join_by_domain(
            session, viewer=viewer_of(session, person), organization_id=org.id
        )
        session.commit()
    members.remove_member(session, user=owner, organization_id=org.id, member_id=bob.id)
    members.leave(session, user=carol, organization_id=org.id)
    session.commit()
    for person in (bob, carol):
        assert company_domains.join_offer(session, person) is None
        with pytest.raises(PermissionDenied):
            company_domains.join_by_domain(
                session, viewer=viewer_of(session, person), organization_id=org.id
            )
        session.rollback()
        assert not is_member(session, person, org)


def test_a_pending_domain_turns_verified_by_itself_once_its_record_is_published(
    session, team, dns
):
    owner, org = team
    row = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    session.commit()
    soon = utcnow() + timedelta(minutes=10)
    assert company_domains.recheck_pending(session, now=soon) == []  # no record yet
    session.commit()
    assert session.get(CompanyDomain, row.id).status == DomainStatus.PENDING
    publish(dns, row)
    # looked up less than PENDING_DOMAIN_RECHECK_SECONDS ago: not yet
    assert company_domains.recheck_pending(session, now=soon + timedelta(seconds=1)) == []
    verified_now = company_domains.recheck_pending(session, now=soon + timedelta(minutes=10))
    session.commit()
    assert [r.id for r in verified_now] == [row.id]
    assert session.get(CompanyDomain, row.id).status == DomainStatus.VERIFIED
    assert company_domains.organization_for_email(session, "bob@acme.com").id == org.id
    assert "company_domain.verified" in audit_actions(session, org.id)


def test_the_background_check_skips_old_domains_other_holders_and_lapsed_plans(
    session, team, dns
):
    owner, org = team
    rival_owner = make_user(session, "owner@rival.com")
    rival = make_org(session, rival_owner, "Rival")
    subscribe(session, rival, "unlimited")
    verified(session, dns, rival_owner, rival, "acme.com")  # held by another organization
    held = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.com")
    late = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.io")
    session.commit()
    publish(dns, held)
    publish(dns, late)
    assert company_domains.recheck_pending(session, now=utcnow() + timedelta(hours=49)) == []
    assert company_domains.recheck_pending(session, now=utcnow() + timedelta(minutes=10)) == [
        late
    ]
    session.commit()
    assert session.get(CompanyDomain, held.id).status == DomainStatus.PENDING
    # a plan without company domains: nothing is verified in the background either
    lapsed = company_domains.add_domain(session, user=owner, organization_id=org.id, domain="acme.net")
    plan = session.exec(select(Subscription).where(Subscription.organization_id == org.id)).one()
    plan.plan_key = "professional"
    session.add(plan)
    session.commit()
    publish(dns, lapsed)
    assert company_domains.recheck_pending(session, now=utcnow() + timedelta(minutes=10)) == []


def test_the_daily_recheck_fails_a_domain_whose_record_is_gone(session, team, dns):

    owner, org = team
    row = verified(session, dns, owner, org)
    set_policy(session, owner, org, "automatic")
    bob = make_user(session, "bob@acme.com")
    # checked less than a day ago: not looked up
    assert company_domains.reverify_due(session) == []
    later = utcnow() + timedelta(days=1, minutes=1)
    assert company_domains.reverify_due(session, now=later) == []  # record still there
    session.commit()
    dns.clear()
    failed = company_domains.reverify_due(session, now=later + timedelta(days=1, minutes=1))
    session.commit()
    assert [r.id for r in failed] == [row.id]
    assert session.get(CompanyDomain, row.id).status == DomainStatus.FAILED
    assert company_domains.join_offer(session, bob) is None
    assert company_domains.organization_for_email(session, "bob@acme.com") is None
    mail = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == "owner@acme.com")
    ).all()
    assert any("no longer verified" in m.subject for m in mail)
    assert "company_domain.failed" in audit_actions(session, org.id)


def test_deleting_the_organization_frees_its_domain(session, team, dns):

    owner, org = team
    verified(session, dns, owner, org)
    set_policy(session, owner, org, "request")
    bob = make_user(session, "bob@acme.com")
    company_domains.join_by_domain(session, viewer=viewer_of(session, bob), organization_id=org.id)
    session.commit()
    organizations.delete_organization(
        session,
        user=owner,
        organization_id=org.id,
        confirm_name="Acme",
        gateway=TestModeBilling(session),
    )
    session.commit()
    assert session.exec(select(CompanyDomain)).all() == []
    assert session.exec(select(JoinRequest)).all() == []
    assert company_domains.organization_for_email(session, "bob@acme.com") is None
