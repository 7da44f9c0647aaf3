"""Branded short-link domains (SPEC §15): normalization, uniqueness, plan limits, DNS
verification against a real (local) DNS server, the daily re-check, and links on a domain."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal.config import settings
from orgportal.models import CustomDomain, DomainStatus, Link, OutboxMessage, Role, Subscription
from orgportal.models.base import utcnow
from orgportal.services import custom_domains, links, plans
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.dns_server import LocalDns
from tests.factories import add_member, audit_actions, make_org, make_user


def subscribe(session: Session, org, plan_key: str) -> None:
    session.add(
        Subscription(
            organization_id=org.id,
            kind="plan",
            plan_key=plan_key,
            status="active",
            stripe_subscription_id=f"sub_{org.id}_{plan_key}",
        )
    )
    session.commit()


@pytest.fixture
def team(session):
    owner = make_user(session, "owner@acme.example.com")
    org = make_org(session, owner)
    subscribe(session, org, "professional")
    return owner, org


def publish(dns: LocalDns, row: CustomDomain, token: str | None = None) -> None:
    dns.set_txt(
        custom_domains.record_name(row.domain), custom_domains.record_value(token or row.token)
    )


# --- normalization ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("go.acme.com", "go.acme.com"),
        ("  Go.ACME.com. ", "go.acme.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_normalizes_to_idna_lower_case(raw, expected):
    assert custom_domains.normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "https://go.acme.com",
        "go.acme.com/path",
        "*.acme.com",
        "go.acme.com:8443",
        "localhost",
        "127.0.0.1",
        "acme",
        "under_score.example",
    ],
)
def test_refuses_anything_but_a_bare_domain(raw):
    with pytest.raises(custom_domains.FieldError):
        custom_domains.normalize(raw)


def test_refuses_the_apps_own_host(monkeypatch):
    monkeypatch.setattr(settings, "public_url", "https://portal.example.com")
    with pytest.raises(custom_domains.FieldError, match="own address"):
        custom_domains.normalize("Portal.Example.com")


def test_add_domain_gives_a_token_and_the_record_to_create(session, team):
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="Go.Acme.com"
    )
    session.commit()
    assert row.domain == "go.acme.com" and row.status == DomainStatus.PENDING
    assert len(row.token) == 32
    assert custom_domains.dns_record(row) == (
        f'TXT _orgportal.go.acme.com "orgportal-verify={row.token}"'
    )
    assert "domain.added" in audit_actions(session, org.id)


def test_bad_input_is_refused_with_a_message_and_changes_nothing(session, team):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        custom_domains.add_domain(
            session, user=owner, organization_id=org.id, domain="https://go.acme.com/x"
        )
    assert "domain" in refused.value.errors
    assert session.exec(select(CustomDomain)).all() == []


def test_a_domain_is_unique_across_organizations(session, team):
    owner, org = team
    custom_domains.add_domain(session, user=owner, organization_id=org.id, domain="go.acme.com")
    session.commit()
    other_owner = make_user(session, "other@example.com")
    other = make_org(session, other_owner, "Other Team")
    subscribe(session, other, "unlimited")
    with pytest.raises(Conflict, match="already in use"):
        custom_domains.add_domain(
            session, user=other_owner, organization_id=other.id, domain="GO.acme.com"
        )
    with pytest.raises(Conflict, match="already in use"):
        custom_domains.add_domain(session, user=owner, organization_id=org.id, domain="go.acme.com")


def test_only_owner_and_admin_manage_domains(session, team):
    owner, org = team
    admin = add_member(session, org, Role.ADMIN)
    agent = add_member(session, org, Role.AGENT)
    outsider = make_user(session, "outsider@example.com")
    custom_domains.add_domain(session, user=admin, organization_id=org.id, domain="a.acme.com")
    with pytest.raises(PermissionDenied):
        custom_domains.add_domain(session, user=agent, organization_id=org.id, domain="b.acme.com")
    with pytest.raises(PermissionDenied):
        custom_domains.list_domains(session, user=agent, organization_id=org.id)
    with pytest.raises(NotFound):
        custom_domains.list_domains(session, user=outsider, organization_id=org.id)


# --- plan limits ------------------------------------------------------------------------------


def test_plan_limits_are_plan_data():
    assert [plans.PLANS[key].domains for key in plans.PLANS] == [0, 1, 2, 5, None]


@pytest.mark.parametrize(("plan_key", "limit"), [("starter", 1), ("basic", 2), ("professional", 5)])
def test_one_more_than_the_plan_allows_is_refused_naming_the_limit(session, plan_key, limit):
    owner = make_user(session, "owner@acme.example.com")
    org = make_org(session, owner)
    subscribe(session, org, plan_key)
    for n in range(limit):
        custom_domains.add_domain(
            session, user=owner, organization_id=org.id, domain=f"d{n}.acme.com"
        )
    session.commit()
    plan = plans.PLANS[plan_key].name
    with pytest.raises(Conflict, match=f"the {plan} plan allows {limit} custom domain"):
        custom_domains.add_domain(
            session, user=owner, organization_id=org.id, domain="more.acme.com"
        )
    assert custom_domains.domain_count(session, org.id) == limit


def test_free_allows_none_and_unlimited_allows_many(session):
    owner = make_user(session, "owner@acme.example.com")
    free = make_org(session, owner, "Free Team")
    with pytest.raises(Conflict, match="the Free plan allows no custom domains"):
        custom_domains.add_domain(
            session, user=owner, organization_id=free.id, domain="go.acme.com"
        )
    big = make_org(session, owner, "Big Team")
    subscribe(session, big, "unlimited")
    for n in range(7):
        custom_domains.add_domain(
            session, user=owner, organization_id=big.id, domain=f"d{n}.big.com"
        )
    assert custom_domains.domain_count(session, big.id) == 7


# --- verification -----------------------------------------------------------------------------


def test_verify_succeeds_with_the_record(session, team, dns):
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.com"
    )
    session.commit()
    publish(dns, row)
    verified = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    session.commit()
    assert verified.status == DomainStatus.VERIFIED and verified.failure_reason == ""
    assert verified.verified_at is not None
    assert custom_domains.serving_organization(session, "go.acme.com") == org.id
    assert audit_actions(session, org.id)[-1] == "domain.verified"


def test_verify_finds_the_token_among_several_txt_values(session, team, dns):
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.com"
    )
    dns.set_txt("_orgportal.go.acme.com", "v=spf1 -all", custom_domains.record_value(row.token))
    verified = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    assert verified.status == DomainStatus.VERIFIED


def test_verify_without_a_record_keeps_a_new_domain_pending(session, team, dns):
    """DNS changes take time: a record not there yet is no failure."""
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.com"
    )
    pending = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    session.commit()
    assert pending.status == DomainStatus.PENDING
    assert pending.failure_reason == "not found yet" and pending.checked_at is not None
    assert custom_domains.serving_organization(session, "go.acme.com") is None
    assert audit_actions(session, org.id)[-1] == "domain.added"


def test_verify_fails_when_the_txt_record_has_another_value(session, team, dns):
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.com"
    )
    publish(dns, row, token="someone-elses-token")
    failed = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    assert (failed.status, failed.failure_reason) == (
        DomainStatus.FAILED,
        'the TXT record holds "orgportal-verify=someone-elses-token", not the value shown here',
    )
    assert audit_actions(session, org.id)[-1] == "domain.failed"


def test_an_unanswering_dns_server_is_refused_and_changes_nothing(session, team, monkeypatch):
    owner, org = team
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.com"
    )
    session.commit()
    monkeypatch.setattr(settings, "dns_resolver", "127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(custom_domains, "DNS_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(Conflict, match="did not answer"):
        custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.rollback()
    assert session.get(CustomDomain, row.id).status == DomainStatus.PENDING


def test_resolver_setting_accepts_host_and_host_port(monkeypatch):
    monkeypatch.setattr(settings, "dns_resolver", "127.0.0.1:5353")
    made = custom_domains.resolver()
    assert (made.nameservers, made.port) == (["127.0.0.1"], 5353)
    monkeypatch.setattr(settings, "dns_resolver", "10.0.0.53")
    made = custom_domains.resolver()
    assert (made.nameservers, made.port) == (["10.0.0.53"], 53)


# --- the daily re-check -----------------------------------------------------------------------


def verified_domain(session, owner, org, dns, name="go.acme.com") -> CustomDomain:
    row = custom_domains.add_domain(session, user=owner, organization_id=org.id, domain=name)
    publish(dns, row)
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    return row


def test_reverification_keeps_a_domain_whose_record_is_there(session, team, dns):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    later = utcnow() + timedelta(days=1, minutes=1)
    assert custom_domains.reverify_due(session, now=later) == []
    session.commit()
    session.refresh(row)
    assert row.status == DomainStatus.VERIFIED and row.checked_at == later


def test_reverification_drops_a_domain_whose_record_is_gone(session, team, dns):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    dns.remove("_orgportal.go.acme.com")
    assert custom_domains.reverify_due(session) == []  # checked less than a day ago
    later = utcnow() + timedelta(days=1, minutes=1)
    failed = custom_domains.reverify_due(session, now=later)
    session.commit()
    assert [d.domain for d in failed] == ["go.acme.com"]
    session.refresh(row)
    assert (row.status, row.failure_reason) == (DomainStatus.FAILED, "no TXT record found")
    assert custom_domains.serving_organization(session, "go.acme.com") is None
    assert audit_actions(session, org.id)[-1] == "domain.failed"
    mail = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "custom_domain_failed")
    ).one()
    assert mail.to_address == owner.email and "go.acme.com" in mail.subject
    # a failed domain is not re-checked (nor mailed about) again
    assert custom_domains.reverify_due(session, now=later + timedelta(days=2)) == []


def test_reverification_keeps_a_domain_when_the_dns_server_does_not_answer(
    session, team, dns, monkeypatch
):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    monkeypatch.setattr(settings, "dns_resolver", "127.0.0.1:9")
    monkeypatch.setattr(custom_domains, "DNS_TIMEOUT_SECONDS", 0.3)
    assert custom_domains.reverify_due(session, now=utcnow() + timedelta(days=2)) == []
    session.refresh(row)
    assert row.status == DomainStatus.VERIFIED


# --- links on a domain, removal -------------------------------------------------------------


def test_links_choose_a_verified_domain_of_their_organization(session, team, dns):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    pending = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="new.acme.com"
    )
    session.commit()
    link = links.create_link(
        session,
        user=owner,
        organization_id=org.id,
        target_url="https://example.com/sale",
        slug="sale",
        custom_domain_id=row.id,
    )
    session.commit()
    assert link.custom_domain_id == row.id
    names = custom_domains.domain_names(session, {row.id})
    assert custom_domains.short_url("sale", names.get(row.id)) == "https://go.acme.com/sale"
    for refused in (pending.id, 999_999):
        with pytest.raises(ValidationFailed):
            links.create_link(
                session,
                user=owner,
                organization_id=org.id,
                target_url="https://example.com/",
                custom_domain_id=refused,
            )
    with pytest.raises(ValidationFailed):  # never in the Personal Workspace
        links.create_link(
            session,
            user=owner,
            organization_id=None,
            target_url="https://example.com/",
            custom_domain_id=row.id,
        )


def test_removing_a_domain_puts_its_links_back_on_the_apps_host(session, team, dns):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    link = links.create_link(
        session,
        user=owner,
        organization_id=org.id,
        target_url="https://example.com/",
        slug="sale",
        custom_domain_id=row.id,
    )
    session.commit()
    custom_domains.remove_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    assert session.get(Link, link.id).custom_domain_id is None
    assert custom_domains.serving_organization(session, "go.acme.com") is None
    assert audit_actions(session, org.id)[-1] == "domain.removed"
    assert custom_domains.short_url("sale", None) == f"{settings.public_url}/l/sale"


def test_projects_and_the_approval_queue_show_branded_short_urls(session, team, dns, monkeypatch):
    """A link on a verified custom domain shows that domain's short URL on its project's
    page and in the approval queue too, not only on the Links page."""
    from orgportal import routes
    from orgportal.orgportal import app  # noqa: F401  (declares the pages)
    from orgportal.services import accounts, projects
    from orgportal.state.approvals import ApprovalsState
    from orgportal.state.projects import ProjectState
    from tests.factories import open_session
    from tests.state.test_page_loads import connected

    owner, org = team
    domain = verified_domain(session, owner, org, dns)
    project = projects.create_project(session, user=owner, organization_id=org.id, name="Spring")
    branded = links.create_link(
        session,
        user=owner,
        organization_id=org.id,
        target_url="https://example.com/spring-sale",
        slug="spring",
        project_id=project.id,
        custom_domain_id=domain.id,
    )
    plain = links.create_link(
        session,
        user=owner,
        organization_id=org.id,
        target_url="https://example.com/plain",
        slug="plain",
        project_id=project.id,
    )
    branded.pending_approval = plain.pending_approval = True
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    viewer = accounts.authenticate(session, raw)
    expected = {"https://go.acme.com/spring", f"{settings.public_url}/l/plain"}

    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.project(project.id))
    page = state.get_substate(ProjectState.get_full_name().split(".")[2:])
    monkeypatch.setattr(ProjectState, "_requested_id", lambda self: project.id)
    page._load(session, viewer)
    assert {row.short_url for row in page.rows} == expected

    queue = state.get_substate(ApprovalsState.get_full_name().split(".")[2:])
    state._show_viewer(session, viewer)  # the Owner's capabilities: may approve
    queue._load(session, viewer)
    assert {row.short_url for row in queue.rows} == expected
