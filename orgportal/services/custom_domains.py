"""Branded short-link domains (SPEC §15).

An Owner/Admin adds `go.acme.com`; it is stored IDNA-normalized and unique across all
organizations, with a random token. The Domains page lists the two records to create
(`dns_records`): a CNAME pointing the domain at the app (CNAME_TARGET, else PUBLIC_URL's
host) and the TXT record `_orgportal.go.acme.com` = `orgportal-verify=<token>` that proves
it is theirs, looked up with dnspython through DNS_RESOLVER (`host` or `host:port`; empty:
the system's resolver). Only a verified domain serves links (`api/custom_host.py`).

Pending, verified, failed: DNS changes take time, so a record not found yet keeps
a new domain Pending ("not found yet"), and `recheck_pending` looks it up again every
PENDING_DOMAIN_RECHECK_SECONDS for its first 48 hours. Failed means a lookup found something
wrong: a TXT record with another value, or the record of a domain verified before gone.
`reverify_due` re-checks each verified domain at most once a day, failing it (and telling the
Owner by mail) when the record is gone or changed.

A domain the DNS server could not be asked about (timeout, no server) changes nothing: it is
tried again on the next run.

The separate list of *authorized* domains for the support plugin is `services/domains.py`.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from sqlmodel import Session, col, func, select, update

from orgportal import routes
from orgportal.config import LOOPBACK_HOSTS, settings
from orgportal.db import mark_usage_changed
from orgportal.models import CustomDomain, DomainStatus, Link, Organization, User
from orgportal.models.base import utcnow
from orgportal.services import audit, outbox, plans, seats, webhooks
from orgportal.services.domains import normalize_domain
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.paging import one_page
from orgportal.services.permissions import Permission, organization_row, owner_of, require
from orgportal.services.validation import FieldError

RECORD_PREFIX = "_orgportal."
TOKEN_PREFIX = "orgportal-verify="
REVERIFY_EVERY = timedelta(days=1)
PENDING_WINDOW = timedelta(hours=48)  # how long DNS changes may take to show
DNS_TIMEOUT_SECONDS = 5.0
NO_RECORD = "no TXT record found"
NOT_FOUND_YET = "not found yet"


@dataclass(frozen=True)
class Check:
    ok: bool
    reason: str = ""
    definitive: bool = True  # False: the DNS server could not be asked (try again later)
    missing: bool = False  # no TXT record at all (not yet there, or gone)


@dataclass(frozen=True)
class DnsRecord:
    """One record to create at the domain's DNS provider, as the Domains page lists it."""

    type: str
    name: str
    value: str
    purpose: str


class DomainLimitReached(Conflict):
    def __init__(self, plan: plans.Plan):
        limit = plan.domains or 0
        allows = (
            f"{limit} custom domain{'s' if limit != 1 else ''}" if limit else "no custom domains"
        )
        super().__init__(f"Custom domain limit reached: the {plan.name} plan allows {allows}.")


def app_hosts() -> frozenset[str]:
    """The app's own host names: PUBLIC_URL's, ALLOWED_ORIGINS' and the loopback names."""
    return _app_hosts(settings.public_url, tuple(settings.allowed_origins))


@lru_cache(maxsize=8)
def _app_hosts(public_url: str, allowed_origins: tuple[str, ...]) -> frozenset[str]:
    """Worked out once per setting (every request's Host is compared with them)."""
    hosts = set(LOOPBACK_HOSTS)
    for origin in (public_url, *allowed_origins):
        host = urlsplit(origin).hostname
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


def normalize(raw: str) -> str:
    """`Go.Acme.com` → `go.acme.com`; a scheme, path, port, wildcard, IP address or the app's
    own host is refused with a message (FieldError)."""
    name = normalize_domain(raw)
    if name in app_hosts():
        raise FieldError(
            f"{name} is this app's own address. Enter your own domain, like go.acme.com."
        )
    return name


def record_name(domain: str) -> str:
    return f"{RECORD_PREFIX}{domain}"


def record_value(token: str) -> str:
    return f"{TOKEN_PREFIX}{token}"


def dns_record(row: CustomDomain) -> str:
    """The TXT record in zone-file form (the mail telling the Owner a domain failed)."""
    return f'TXT {record_name(row.domain)} "{record_value(row.token)}"'


def dns_records(row: CustomDomain) -> list[DnsRecord]:
    """The records to create, one per line with its own name and value (each copied alone)."""
    return [
        DnsRecord("CNAME", row.domain, settings.cname_host, "points the domain at this app"),
        DnsRecord(
            "TXT", record_name(row.domain), record_value(row.token), "proves the domain is yours"
        ),
    ]


def wrong_value(found: str) -> str:
    """The reason of a TXT record with another value: what was found, cut to fit."""
    shown = found if len(found) <= 80 else found[:79] + "…"
    return f'the TXT record holds "{shown}", not the value shown here'


def status_note(row: CustomDomain, *, now: datetime | None = None) -> str:
    """What a domain's status means and what to do next, as the Domains page says it."""
    now = now or utcnow()
    if row.status == DomainStatus.VERIFIED:
        return "Short links are served on it. Keep both records: the TXT record is checked daily."
    if row.status == DomainStatus.FAILED:
        return f"Verification failed: {row.failure_reason}. Correct the record, then press Verify."
    if row.created_at <= now - PENDING_WINDOW:
        return (
            "Pending — the TXT record was not found within 48 hours, so we stopped checking on "
            "our own. Check both records, then press Verify."
        )
    return (
        "Pending — DNS changes can take up to 48 hours. We check again "
        f"{_every(settings.pending_domain_recheck_seconds)}; press Verify to check now."
    )


def is_rechecked(row: CustomDomain, *, now: datetime | None = None) -> bool:
    """Whether the background re-check (`recheck_pending`) still looks this domain up: never
    verified, and added less than 48 hours ago."""
    now = now or utcnow()
    return (
        row.status != DomainStatus.VERIFIED
        and row.verified_at is None
        and row.created_at > now - PENDING_WINDOW
    )


def _every(seconds: float) -> str:
    """300 → "every 5 minutes", 60 → "every minute", 2 → "every 2 seconds"."""
    whole = max(1, round(seconds))
    if whole % 60:
        return "every second" if whole == 1 else f"every {whole} seconds"
    minutes = whole // 60
    return "every minute" if minutes == 1 else f"every {minutes} minutes"


def short_url(slug: str, domain: str | None) -> str:
    """The full short URL of a link: on its verified custom domain, else on the app's host."""
    if domain:
        return f"https://{domain}/{slug}"
    return f"{settings.public_url}{routes.short_link(slug)}"


# --- reading ----------------------------------------------------------------------------------


def list_domains(
    session: Session, *, user: User, organization_id: int, limit: int = 50, offset: int = 0
) -> tuple[list[CustomDomain], int]:
    """One page of the organization's custom domains (by name) and the total (Owner/Admin)."""
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return one_page(
        session,
        CustomDomain,
        CustomDomain.organization_id == organization_id,
        order_by=(col(CustomDomain.domain),),
        limit=limit,
        offset=offset,
    )


def verified_domains(
    session: Session, *, user: User, organization_id: int | None
) -> list[CustomDomain]:
    """The domains a member may put a new link on (none in the Personal Workspace)."""
    if organization_id is None:
        return []
    require(session, user, organization_id, Permission.VIEW)
    return list(
        session.exec(
            select(CustomDomain)
            .where(
                CustomDomain.organization_id == organization_id,
                CustomDomain.status == DomainStatus.VERIFIED,
            )
            .order_by(col(CustomDomain.domain))
        )
    )


def domain_count(session: Session, organization_id: int) -> int:
    """Custom domains counted against the plan's limit (every status)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(CustomDomain)
            .where(CustomDomain.organization_id == organization_id)
        ).one()
    )


def domain_limit(session: Session, organization: Organization) -> int | None:
    return plans.organization_plan(session, organization).domains


def link_domain(
    session: Session, *, organization_id: int | None, custom_domain_id: int | None
) -> CustomDomain | None:
    """The verified domain of the link's organization a new link is put on, or a refusal."""
    if custom_domain_id is None:
        return None
    row = session.get(CustomDomain, custom_domain_id)
    if (
        row is None
        or organization_id is None
        or row.organization_id != organization_id
        or row.status != DomainStatus.VERIFIED
    ):
        raise ValidationFailed({"domain": "Choose a verified domain of this organization."})
    return row


def link_domain_by_name(
    session: Session, *, organization_id: int | None, domain: str
) -> CustomDomain | None:
    """For the REST API: a domain named by host (`""` or the app's host: the app's). A name
    that is no verified domain of this organization is a 404, as any unknown object is."""
    name = (domain or "").strip().lower().rstrip(".")
    if not name or name in app_hosts():
        return None
    row = session.exec(select(CustomDomain).where(CustomDomain.domain == name)).first()
    try:
        return link_domain(
            session, organization_id=organization_id, custom_domain_id=row.id if row else -1
        )
    except ValidationFailed:
        raise NotFound(f"{name} is not a verified domain of this organization.") from None


def domain_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Verified domains by id, for showing links' short URLs (a failed one falls back)."""
    if not ids:
        return {}
    rows = session.exec(
        select(CustomDomain.id, CustomDomain.domain).where(
            col(CustomDomain.id).in_(ids), CustomDomain.status == DomainStatus.VERIFIED
        )
    ).all()
    return {row_id: name for row_id, name in rows}


def short_urls(session: Session, links: Iterable[Link]) -> dict[int, str]:
    """Each link's full short URL by link id: on its verified custom domain, else on the
    app's host. The one place every list of links (Links, a project, the approval queue,
    the API) gets its short URLs from, so branded links show their own domain everywhere."""
    links = list(links)
    names = domain_names(session, {link.custom_domain_id for link in links} - {None})
    return {link.id: short_url(link.slug, names.get(link.custom_domain_id or 0)) for link in links}


def serving_organization(session: Session, host: str) -> int | None:
    """The organization whose links a request for this Host is served, or None."""
    return session.exec(
        select(CustomDomain.organization_id).where(
            CustomDomain.domain == host, CustomDomain.status == DomainStatus.VERIFIED
        )
    ).first()


# --- changing ---------------------------------------------------------------------------------


def add_domain(session: Session, *, user: User, organization_id: int, domain: str) -> CustomDomain:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    try:
        name = normalize(domain)
    except FieldError as exc:
        raise ValidationFailed({"domain": str(exc)}) from exc
    seats.lock_organization(session, organization_id)  # two admins racing for the last slot
    plan = plans.organization_plan(session, organization)
    if plan.domains is not None and domain_count(session, organization_id) >= plan.domains:
        raise DomainLimitReached(plan)
    if session.exec(select(CustomDomain.id).where(CustomDomain.domain == name)).first():
        raise Conflict(f"{name} is already in use by an organization.")
    row = CustomDomain(organization_id=organization_id, domain=name, token=secrets.token_hex(16))
    session.add(row)
    session.flush()
    mark_usage_changed(session, [organization_id])  # the usage bars count domains
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="domain.added",
        summary=f"Custom domain {name} added",
    )
    return row


def get_domain(
    session: Session, *, user: User, organization_id: int, domain_id: int
) -> CustomDomain:
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return organization_row(session, CustomDomain, domain_id, organization_id, "Domain not found.")


def verify_domain(
    session: Session, *, user: User, organization_id: int, domain_id: int
) -> CustomDomain:
    """Look the TXT record up now: Verified; Failed with the reason when the record found is
    wrong (or a verified domain's record is gone); still Pending ("not found yet") when a
    new domain's record is not there yet. A DNS server that does not answer is refused
    (Conflict) and changes nothing."""
    row = get_domain(session, user=user, organization_id=organization_id, domain_id=domain_id)
    check = check_record(row.domain, row.token)
    if not check.definitive:  # says nothing about the record: change nothing
        raise Conflict("The DNS server did not answer. Try again in a minute.")
    was_verified = row.status == DomainStatus.VERIFIED
    status, reason = judge(row, check)
    now = utcnow()
    row.checked_at, row.status, row.failure_reason = now, status, reason[:200]
    if status == DomainStatus.VERIFIED:
        row.verified_at = now
        webhooks.emit(session, row.organization_id, "domain.verified", {"domain_id": row.id, "domain": row.domain})
        _audit(session, row, user, "domain.verified", f"Custom domain {row.domain} verified")
    elif status == DomainStatus.FAILED:
        webhooks.emit(session, row.organization_id, "domain.failed", {"domain_id": row.id, "domain": row.domain, "reason": reason})
        _audit(
            session,
            row,
            user,
            "domain.failed",
            f"Custom domain {row.domain} failed verification: {reason}",
        )
        if was_verified:
            _tell_owner(session, row)
    session.add(row)
    session.flush()
    return row


def judge(row: CustomDomain, check: Check) -> tuple[str, str]:
    """(status, reason) after a definitive lookup. A missing record keeps a domain that was
    never verified Pending: DNS changes take time, and nothing wrong was found."""
    if check.ok:
        return DomainStatus.VERIFIED, ""
    if check.missing and row.verified_at is None:
        return DomainStatus.PENDING, NOT_FOUND_YET
    return DomainStatus.FAILED, check.reason


def _audit(session: Session, row: CustomDomain, actor: User | None, action: str, summary: str):
    audit.record(
        session, organization_id=row.organization_id, actor=actor, action=action, summary=summary
    )


def remove_domain(session: Session, *, user: User, organization_id: int, domain_id: int) -> None:
    row = get_domain(session, user=user, organization_id=organization_id, domain_id=domain_id)
    # What ON DELETE SET NULL does, also where SQLite's foreign keys are off.
    session.exec(
        update(Link).where(col(Link.custom_domain_id) == row.id).values(custom_domain_id=None)
    )
    session.delete(row)
    mark_usage_changed(session, [organization_id])
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="domain.removed",
        summary=f"Custom domain {row.domain} removed",
    )
    session.flush()


def reverify_due(
    session: Session, *, now: datetime | None = None, batch: int = 200
) -> list[CustomDomain]:
    """The daily re-check: every verified domain not checked in the last day is looked up
    again; those whose record is gone or changed are failed (their links stop being served
    there) and the Owner is told by mail. Returns the domains failed by this run."""
    now = now or utcnow()
    due = session.exec(
        select(CustomDomain)
        .where(
            CustomDomain.status == DomainStatus.VERIFIED,
            (col(CustomDomain.checked_at).is_(None))
            | (col(CustomDomain.checked_at) <= now - REVERIFY_EVERY),
        )
        .order_by(col(CustomDomain.id))
        .limit(batch)
    ).all()
    failed = []
    for row in due:
        check = check_record(row.domain, row.token)
        if not check.definitive:
            continue  # the resolver could not answer: try again on the next run
        if check.ok:
            row.checked_at = now
            session.add(row)
            continue
        # Conditional, so two app processes re-checking at once fail it (and mail) once.
        changed = session.exec(
            update(CustomDomain)
            .where(col(CustomDomain.id) == row.id, CustomDomain.status == DomainStatus.VERIFIED)
            .values(status=DomainStatus.FAILED, failure_reason=check.reason[:200], checked_at=now)
        ).rowcount
        session.refresh(row)
        if changed:
            webhooks.emit(session, row.organization_id, "domain.failed", {"domain_id": row.id, "domain": row.domain, "reason": check.reason})
            audit.record(
                session,
                organization_id=row.organization_id,
                actor=None,
                action="domain.failed",
                summary=f"Custom domain {row.domain} failed re-verification: {check.reason}",
            )
            _tell_owner(session, row)
            failed.append(row)
    session.flush()
    return failed


def recheck_pending(
    session: Session, *, now: datetime | None = None, batch: int = 200
) -> list[CustomDomain]:
    """The frequent background look-up: every domain never verified, added in the
    last 48 hours and not looked up for PENDING_DOMAIN_RECHECK_SECONDS, is looked up again,
    so it turns Verified without anyone pressing Verify. Returns those whose status changed.
    """
    now = now or utcnow()
    every = timedelta(seconds=settings.pending_domain_recheck_seconds)
    due = session.exec(
        select(CustomDomain)
        .where(
            col(CustomDomain.status).in_([DomainStatus.PENDING, DomainStatus.FAILED]),
            col(CustomDomain.verified_at).is_(None),
            CustomDomain.created_at > now - PENDING_WINDOW,
            (col(CustomDomain.checked_at).is_(None))
            | (col(CustomDomain.checked_at) <= now - every),
        )
        .order_by(col(CustomDomain.id))
        .limit(batch)
    ).all()
    changed = []
    for row in due:
        check = check_record(row.domain, row.token)
        if not check.definitive:
            continue  # the resolver could not answer: try again on the next run
        before = row.status
        status, reason = judge(row, check)
        # Conditional, so two app processes checking at once record (and audit) it once.
        done = session.exec(
            update(CustomDomain)
            .where(col(CustomDomain.id) == row.id, CustomDomain.status == before)
            .values(
                status=status,
                failure_reason=reason[:200],
                checked_at=now,
                verified_at=now if status == DomainStatus.VERIFIED else None,
            )
        ).rowcount
        session.refresh(row)
        if not done or status == before:
            continue
        if status == DomainStatus.VERIFIED:
            summary = f"Custom domain {row.domain} verified (found by the automatic check)"
            webhooks.emit(session, row.organization_id, "domain.verified", {"domain_id": row.id, "domain": row.domain})
            _audit(session, row, None, "domain.verified", summary)
        elif status == DomainStatus.FAILED:
            summary = f"Custom domain {row.domain} failed verification: {reason}"
            webhooks.emit(session, row.organization_id, "domain.failed", {"domain_id": row.id, "domain": row.domain, "reason": reason})
            _audit(session, row, None, "domain.failed", summary)
        changed.append(row)
    session.flush()
    return changed


# --- DNS --------------------------------------------------------------------------------------


def resolver() -> dns.resolver.Resolver:
    """dnspython's resolver, pointed at DNS_RESOLVER when set."""
    configured = settings.dns_resolver.strip()
    if not configured:
        made = dns.resolver.Resolver()
    else:
        made = dns.resolver.Resolver(configure=False)
        host, port = _host_port(configured)
        made.nameservers = [host]
        made.port = port
    made.lifetime = DNS_TIMEOUT_SECONDS
    made.timeout = DNS_TIMEOUT_SECONDS
    return made


def check_record(domain: str, token: str) -> Check:
    """Whether `_orgportal.<domain>` has the TXT value `orgportal-verify=<token>`."""
    try:
        answer = resolver().resolve(record_name(domain), "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Check(False, NO_RECORD, missing=True)
    except (dns.exception.DNSException, ValueError, OSError):
        return Check(False, "the DNS server did not answer, try again later", False)
    values = [
        b"".join(record.strings).decode("utf-8", "replace").strip()
        for record in (answer.rrset or ())
    ]
    if not values:
        return Check(False, NO_RECORD, missing=True)
    if record_value(token) in values:
        return Check(True)
    # ours, if there is one of ours (a stale token), else whatever is there
    found = next((value for value in values if value.startswith(TOKEN_PREFIX)), values[0])
    return Check(False, wrong_value(found))


def _host_port(value: str) -> tuple[str, int]:
    """`127.0.0.1:5353` → ("127.0.0.1", 5353); `[::1]:53`, `::1` and `8.8.8.8` too."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, int(port)
    return value, 53


def _tell_owner(session: Session, row: CustomDomain) -> None:
    owner = owner_of(session, row.organization_id)
    organization = session.get(Organization, row.organization_id)
    if owner is None or organization is None:
        return
    link = f"{settings.public_url}{routes.ORGANIZATION_DOMAINS}"
    outbox.queue_mail(
        session,
        to=owner.email,
        subject=f"Custom domain {row.domain} stopped working",
        body=(
            f"The custom domain {row.domain} of {organization.name} failed verification: "
            f"{row.failure_reason}.\n\nShort links are no longer served on it. Restore the DNS "
            f"record {dns_record(row)} and press Verify on the Domains page:\n{link}\n"
        ),
        link=link,
        kind="custom_domain_failed",
        organization_id=row.organization_id,
    )
