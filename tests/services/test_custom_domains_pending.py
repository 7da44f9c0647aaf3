"""Custom domain set-up that does not leave people guessing (SPEC §15): the records to
create, one per line (CNAME to CNAME_TARGET, TXT with the token); Pending while DNS changes
spread, looked up again in the background for 48 hours; Failed only when a lookup found a
wrong record. Lookups go to a real DNS server on 127.0.0.1."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal import db
from orgportal.api import custom_host
from orgportal.config import settings
from orgportal.models import AuditEvent, CustomDomain, DomainStatus, OutboxMessage
from orgportal.models.base import utcnow
from orgportal.services import custom_domains
from tests.factories import make_org, make_user
from tests.services.test_custom_domains import publish, subscribe, verified_domain


@pytest.fixture
def team(session):
    owner = make_user(session, "owner@acme.example.com")
    org = make_org(session, owner)
    subscribe(session, org, "professional")
    return owner, org


def add(session, owner, org, name="go.acme.com") -> CustomDomain:
    row = custom_domains.add_domain(session, user=owner, organization_id=org.id, domain=name)
    session.commit()
    return row


def fresh(session: Session, row: CustomDomain) -> CustomDomain:
    session.expire_all()
    return session.get(CustomDomain, row.id)


# --- the records to create --------------------------------------------------------------------


def test_the_records_are_a_cname_to_the_apps_host_and_the_txt_token(
    session, team, monkeypatch
):
    owner, org = team
    monkeypatch.setattr(settings, "public_url", "https://portal.example.com")
    row = add(session, owner, org)
    cname, txt = custom_domains.dns_records(row)
    assert (cname.type, cname.name, cname.value) == ("CNAME", "go.acme.com", "portal.example.com")
    assert (txt.type, txt.name, txt.value) == (
        "TXT",
        "_orgportal.go.acme.com",
        f"orgportal-verify={row.token}",
    )


@pytest.mark.parametrize(
    ("configured", "target"),
    [
        ("links.orgportal.com", "links.orgportal.com"),
        ("Links.Orgportal.com.", "links.orgportal.com"),
        ("https://links.orgportal.com/", "links.orgportal.com"),
        ("", "portal.example.com"),
    ],
)
def test_cname_target_is_configurable(monkeypatch, configured, target):
    monkeypatch.setattr(settings, "public_url", "https://portal.example.com")
    monkeypatch.setattr(settings, "cname_target", configured)
    assert settings.cname_host == target


# --- the background re-check of pending domains ----------------------------------------------


def test_a_record_added_later_is_verified_by_the_background_check(session, team, dns):
    owner, org = team
    row = add(session, owner, org)
    assert custom_domains.recheck_pending(session) == []  # nothing there yet
    session.commit()
    assert (fresh(session, row).status, fresh(session, row).failure_reason) == (
        DomainStatus.PENDING,
        "not found yet",
    )

    publish(dns, row)
    later = utcnow() + timedelta(seconds=settings.pending_domain_recheck_seconds + 1)
    changed = custom_domains.recheck_pending(session, now=later)
    session.commit()
    assert [d.domain for d in changed] == ["go.acme.com"]
    row = fresh(session, row)
    assert row.status == DomainStatus.VERIFIED and row.verified_at == later
    assert custom_domains.serving_organization(session, "go.acme.com") == org.id
    entry = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (entry.action, entry.actor_id) == ("domain.verified", None)
    assert "automatic check" in entry.summary


def test_a_domain_checked_moments_ago_waits_for_the_next_round(session, team, dns):
    owner, org = team
    row = add(session, owner, org)
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    publish(dns, row)
    assert custom_domains.recheck_pending(session) == []  # just looked up by Verify
    assert fresh(session, row).status == DomainStatus.PENDING


def test_after_48_hours_the_background_stops_and_verify_still_works(session, team, dns):
    owner, org = team
    row = add(session, owner, org)
    publish(dns, row)
    two_days = utcnow() + timedelta(hours=48, minutes=1)
    assert custom_domains.recheck_pending(session, now=two_days) == []
    assert not custom_domains.is_rechecked(fresh(session, row), now=two_days)
    assert "we stopped checking on our own" in custom_domains.status_note(row, now=two_days)
    verified = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    assert verified.status == DomainStatus.VERIFIED


def test_a_wrong_txt_value_fails_with_the_reason_and_a_fix_is_found_later(session, team, dns):
    owner, org = team
    row = add(session, owner, org)
    dns.set_txt(custom_domains.record_name(row.domain), "orgportal-verify=old-token")
    changed = custom_domains.recheck_pending(session)
    session.commit()
    assert [d.status for d in changed] == [DomainStatus.FAILED]
    row = fresh(session, row)
    assert row.failure_reason == (
        'the TXT record holds "orgportal-verify=old-token", not the value shown here'
    )
    assert custom_domains.status_note(row).startswith("Verification failed: the TXT record holds")

    # still within its 48 hours: the corrected record is found without pressing Verify
    publish(dns, row)
    later = utcnow() + timedelta(seconds=settings.pending_domain_recheck_seconds + 1)
    assert custom_domains.is_rechecked(row, now=later)
    custom_domains.recheck_pending(session, now=later)
    session.commit()
    assert fresh(session, row).status == DomainStatus.VERIFIED


def test_a_wrong_record_removed_again_is_pending_not_failed(session, team, dns):
    owner, org = team
    row = add(session, owner, org)
    dns.set_txt(custom_domains.record_name(row.domain), "something else")
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    assert fresh(session, row).status == DomainStatus.FAILED
    dns.remove(custom_domains.record_name(row.domain))
    again = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    assert (again.status, again.failure_reason) == (DomainStatus.PENDING, "not found yet")


def test_a_verified_domain_whose_record_is_gone_fails_and_the_owner_is_told(
    session, team, dns
):
    owner, org = team
    row = verified_domain(session, owner, org, dns)
    assert custom_domains.recheck_pending(session, now=utcnow() + timedelta(hours=1)) == []
    dns.remove(custom_domains.record_name(row.domain))
    failed = custom_domains.verify_domain(
        session, user=owner, organization_id=org.id, domain_id=row.id
    )
    session.commit()
    assert (failed.status, failed.failure_reason) == (DomainStatus.FAILED, "no TXT record found")
    mail = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "custom_domain_failed")
    ).one()
    assert mail.to_address == owner.email


def test_an_unanswering_dns_server_changes_nothing_in_the_background(
    session, team, monkeypatch
):
    owner, org = team
    row = add(session, owner, org)
    monkeypatch.setattr(settings, "dns_resolver", "127.0.0.1:9")
    monkeypatch.setattr(custom_domains, "DNS_TIMEOUT_SECONDS", 0.3)
    assert custom_domains.recheck_pending(session) == []
    row = fresh(session, row)
    assert (row.status, row.checked_at) == (DomainStatus.PENDING, None)


def test_the_worker_round_runs_the_pending_and_the_daily_checks(
    session, team, dns, engine, monkeypatch
):
    owner, org = team
    row = add(session, owner, org)
    publish(dns, row)
    monkeypatch.setattr(db, "engine", lambda: engine)
    custom_host._reverify()
    assert fresh(session, row).status == DomainStatus.VERIFIED


# --- what the page says -----------------------------------------------------------------------


def test_the_status_notes(session, team, dns, monkeypatch):
    owner, org = team
    monkeypatch.setattr(settings, "pending_domain_recheck_seconds", 300)
    row = add(session, owner, org)
    assert custom_domains.status_note(row) == (
        "Pending — DNS changes can take up to 48 hours. We check again every 5 minutes; "
        "press Verify to check now."
    )
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    assert custom_domains.status_note(row).startswith("Pending — DNS changes")  # not found yet
    publish(dns, row)
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    assert custom_domains.status_note(row).startswith("Short links are served on it.")


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (300, "every 5 minutes"),
        (60, "every minute"),
        (2, "every 2 seconds"),
        (90, "every 90 seconds"),
        (1, "every second"),
    ],
)
def test_how_often_is_said_in_words(seconds, said):
    assert custom_domains._every(seconds) == said
