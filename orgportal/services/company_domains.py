"""Company domains and join by domain (SPEC §16, Unlimited plan).

A *company domain* (`acme.com`) says who an organization's people are. It is one of three
kinds of domain, kept apart in the code and on the pages:

- company domains (this module): email domains, proven by DNS, for joining by domain and,
  later, single sign-on;
- authorized domains (`domains.py`): websites whose support plugin may post tickets (§7);
- short-link domains (`custom_domains.py`): branded hosts serving short links (§15).

An Owner/Admin adds a domain and proves it with the same TXT record as a short-link domain,
`_orgportal.<domain>` = `orgportal-verify=<token>`, looked up with dnspython through
DNS_RESOLVER (`custom_domains.check_record`). Public suffixes (`co.uk`) and free-mail
domains (`gmail.com`) are refused: nobody owns everyone who has such an address.

One organization at a time: several may add a domain while it is pending, but verifying it
is refused while another organization holds it verified (and the partial unique index
`ux_company_domain_verified` refuses a race the check could miss).

Join by domain: someone whose *confirmed* address is at a verified domain is offered to
join (`join_offer`), as the organization's policy says: off, automatic with a default role,
or a request an Owner/Admin approves. A join takes a seat like an accepted invite
(`seats.require_free_seat`, refused with NoSeatsAvailable when full). A pending request
holds no seat: anyone at the domain may ask, and asking must not block the invites the
organization sends itself; the seat is taken, and checked, when it is approved.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from publicsuffixlist import PublicSuffixList
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from orgportal import routes
from orgportal.config import settings
from orgportal.db import mark_usage_changed
from orgportal.models import (
    CompanyDomain,
    CompanyJoinSettings,
    DomainStatus,
    JoinPolicy,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    Organization,
    Role,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    accounts,
    audit,
    custom_domains,
    notifications,
    outbox,
    plans,
    seats,
    usage_counters,
    webhooks,
)
from orgportal.services.accounts import Viewer
from orgportal.services.domains import normalize_domain
from orgportal.services.errors import Conflict, PermissionDenied, ValidationFailed
from orgportal.services.free_mail import FREE_MAIL_DOMAINS
from orgportal.services.paging import one_page
from orgportal.services.permissions import (
    ASSIGNABLE_ROLES,
    Permission,
    membership_of,
    organization_row,
    owner_of,
    require,
)
from orgportal.services.validation import FieldError

EXAMPLE = "acme.com"
MAX_DOMAINS = 50  # per organization
_PSL = PublicSuffixList()  # the Public Suffix List shipped with the package

POLICY_LABELS = {
    JoinPolicy.OFF: "Off",
    JoinPolicy.AUTOMATIC: "Join automatically",
    JoinPolicy.REQUEST: "Ask to join (an Admin approves)",
}


class FeatureLocked(PermissionDenied):
    def __init__(self) -> None:
        names = " and ".join(plan.name for plan in plans.plans_with(plans.IDENTITY))
        plural = "plans" if " and " in names else "plan"
        super().__init__(
            f"Company domains and join by domain are available on the {names} {plural}."
        )


@dataclass(frozen=True)
class CompanyDomainSettings:
    """What the Company domains card shows besides the list."""

    available: bool
    locked_reason: str
    policy: str  # JoinPolicy
    default_role: str  # a Role value


@dataclass(frozen=True)
class JoinOffer:
    """ "Join Acme", as the person whose address is at a verified domain is offered it."""

    organization_id: int
    organization_name: str
    domain: str
    policy: str  # automatic or request
    role: str  # the role they would get
    requested: bool  # a request of theirs already waits for an Admin


@dataclass(frozen=True)
class PendingRequest:
    id: int
    user_id: int
    email: str
    name: str
    created_at: datetime


# --- names ------------------------------------------------------------------------------------


def normalize(raw: str) -> str:
    """`Acme.COM` → `acme.com` (IDNA); anything but a domain someone can own is refused with
    a message (FieldError): a URL, an address, a public suffix, a free-mail domain."""
    value = (raw or "").strip()
    if "@" in value and "/" not in value:  # an address pasted: its domain was meant
        value = value.rsplit("@", 1)[1]
    name = normalize_domain(value)
    if name in custom_domains.app_hosts():
        raise FieldError(f"{name} is this app's own address. Enter your company's domain.")
    if name in FREE_MAIL_DOMAINS:
        raise FieldError(
            f"{name} is a free email provider: anyone can have an address there. Enter your "
            f"company's own domain, like {EXAMPLE}."
        )
    if _PSL.is_public(name):
        raise FieldError(
            f"{name} is a public suffix, shared by many owners. Enter your company's own "
            f"domain, like {EXAMPLE}."
        )
    return name


def email_domain(email: str) -> str:
    """The IDNA domain of an address, lower case ("" when it has none)."""
    _, at, domain = (email or "").strip().rpartition("@")
    if not at or not domain:
        return ""
    try:
        return normalize_domain(domain)
    except FieldError:
        return ""


def is_available(session: Session, organization: Organization) -> bool:
    return plans.IDENTITY in plans.organization_plan(session, organization).features


# --- reading ----------------------------------------------------------------------------------


def get_settings(session: Session, *, user: User, organization_id: int) -> CompanyDomainSettings:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    available = is_available(session, organization)
    row = session.get(CompanyJoinSettings, organization_id)
    return CompanyDomainSettings(
        available=available,
        locked_reason="" if available else FeatureLocked().message,
        policy=row.policy if row else JoinPolicy.OFF,
        default_role=row.default_role if row else Role.VIEWER,
    )


def list_domains(
    session: Session, *, user: User, organization_id: int, limit: int = 50, offset: int = 0
) -> tuple[list[CompanyDomain], int]:
    """One page of the organization's company domains (by name) and the total (Owner/Admin)."""
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return one_page(
        session,
        CompanyDomain,
        CompanyDomain.organization_id == organization_id,
        order_by=(col(CompanyDomain.domain),),
        limit=limit,
        offset=offset,
    )


def held_elsewhere(session: Session, row: CompanyDomain) -> bool:
    """Whether another organization holds this domain verified."""
    return (
        session.exec(
            select(CompanyDomain.id).where(
                CompanyDomain.domain == row.domain,
                CompanyDomain.status == DomainStatus.VERIFIED,
                CompanyDomain.organization_id != row.organization_id,
            )
        ).first()
        is not None
    )


def status_note(session: Session, row: CompanyDomain) -> str:
    """What a domain's status means and what to do next, as the card says it."""
    if row.status == DomainStatus.VERIFIED:
        return "Verified: people with an address at this domain are offered to join."
    if held_elsewhere(session, row):
        return (
            "Another organization has verified this domain. It must remove it before this "
            "organization can verify it."
        )
    if row.status == DomainStatus.FAILED:
        return (
            f"Verification failed: {row.failure_reason}. Correct the record, then press Verify now."
        )
    return "Pending: create the TXT record below, then press Verify now (DNS changes can take a while)."


def organization_for_email(session: Session, email: str) -> Organization | None:
    """The organization that has verified the address's domain, or None. Exact domain only:
    `bob@eu.acme.com` belongs to whoever verified `eu.acme.com`. The plan is not checked
    here; callers that grant something check `is_available`."""
    domain = email_domain(email)
    if not domain:
        return None
    organization_id = session.exec(
        select(CompanyDomain.organization_id).where(
            CompanyDomain.domain == domain, CompanyDomain.status == DomainStatus.VERIFIED
        )
    ).first()
    return session.get(Organization, organization_id) if organization_id else None


def join_offer(session: Session, user: User) -> JoinOffer | None:
    """ "Join Acme" for this person, or None: their address is confirmed (SPEC §1: no joins
    before), its domain verified by an organization on a plan with the feature whose policy
    is not off, they are not a member, and they have not been declined or said "Not now"."""
    if user.email_confirmed_at is None:
        return None
    organization = organization_for_email(session, user.email)
    if organization is None or not is_available(session, organization):
        return None
    join = session.get(CompanyJoinSettings, organization.id)
    if join is None or join.policy == JoinPolicy.OFF:
        return None
    if membership_of(session, user, organization.id) is not None:
        return None
    request = _request_of(session, organization.id, user.id)
    if request is not None and request.status in (
        JoinRequestStatus.DECLINED,
        JoinRequestStatus.DISMISSED,
    ):
        return None
    return JoinOffer(
        organization_id=organization.id,
        organization_name=organization.name,
        domain=email_domain(user.email),
        policy=join.policy,
        role=Role(join.default_role).label,
        requested=request is not None and request.status == JoinRequestStatus.PENDING,
    )


def list_requests(
    session: Session, *, user: User, organization_id: int, limit: int = 50, offset: int = 0
) -> tuple[list[PendingRequest], int]:
    """Pending join requests, oldest first, and their total (Owner/Admin)."""
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    where = (JoinRequest.organization_id == organization_id) & (
        JoinRequest.status == JoinRequestStatus.PENDING
    )
    total = session.exec(select(func.count()).select_from(JoinRequest).where(where)).one()
    rows = session.exec(
        select(JoinRequest, User)
        .join(User, col(User.id) == JoinRequest.user_id)
        .where(where)
        .order_by(col(JoinRequest.created_at), col(JoinRequest.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        PendingRequest(r.id, u.id, u.email, u.display_name, r.created_at) for r, u in rows
    ], int(total)


# --- domains ----------------------------------------------------------------------------------


def add_domain(session: Session, *, user: User, organization_id: int, domain: str) -> CompanyDomain:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    if not is_available(session, organization):
        raise FeatureLocked()
    try:
        name = normalize(domain)
    except FieldError as exc:
        raise ValidationFailed({"domain": str(exc)}) from exc
    seats.lock_organization(session, organization_id)  # two admins adding the same name
    mine = select(CompanyDomain.id).where(CompanyDomain.organization_id == organization_id)
    if session.exec(mine.where(CompanyDomain.domain == name)).first():
        raise ValidationFailed({"domain": f"{name} is already one of your company domains."})
    count = session.exec(
        select(func.count())
        .select_from(CompanyDomain)
        .where(CompanyDomain.organization_id == organization_id)
    ).one()
    if count >= MAX_DOMAINS:
        raise ValidationFailed({"domain": f"At most {MAX_DOMAINS} company domains."})
    row = CompanyDomain(organization_id=organization_id, domain=name, token=secrets.token_hex(16))
    session.add(row)
    session.flush()
    _audit(session, organization_id, user, "company_domain.added", f"Company domain {name} added")
    return row


def get_domain(
    session: Session, *, user: User, organization_id: int, domain_id: int
) -> CompanyDomain:
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return organization_row(
        session, CompanyDomain, domain_id, organization_id, "Company domain not found."
    )


def verify_domain(
    session: Session, *, user: User, organization_id: int, domain_id: int
) -> CompanyDomain:
    """Look the TXT record up now: Verified; Failed with the reason when the record found is
    wrong (or a verified domain's record is gone); Pending ("not found yet") when a new
    domain's record is not there yet. Refused (Conflict, nothing changed) when the DNS server
    does not answer, or when another organization holds the domain verified."""
    row = get_domain(session, user=user, organization_id=organization_id, domain_id=domain_id)
    organization = session.get(Organization, organization_id)
    if not is_available(session, organization):
        raise FeatureLocked()
    if held_elsewhere(session, row):
        raise _held_elsewhere(row.domain)
    check = custom_domains.check_record(row.domain, row.token)
    if not check.definitive:
        raise Conflict("The DNS server did not answer. Try again in a minute.")
    now = utcnow()
    if check.ok:
        status, reason = DomainStatus.VERIFIED, ""
    elif check.missing and row.verified_at is None:
        status, reason = DomainStatus.PENDING, custom_domains.NOT_FOUND_YET
    else:
        status, reason = DomainStatus.FAILED, check.reason
    was = row.status
    row.checked_at, row.status, row.failure_reason = now, status, reason[:200]
    if status == DomainStatus.VERIFIED:
        row.verified_at = row.verified_at or now
    try:
        with session.begin_nested():  # another organization verifying at the same moment
            session.add(row)
            session.flush()
    except IntegrityError:
        raise _held_elsewhere(row.domain) from None
    if status != was and status == DomainStatus.VERIFIED:
        _audit(
            session, organization_id, user, "company_domain.verified",
            f"Company domain {row.domain} verified",
        )  # fmt: skip
    elif status != was and status == DomainStatus.FAILED:
        _audit(
            session, organization_id, user, "company_domain.failed",
            f"Company domain {row.domain} failed verification: {reason}",
        )  # fmt: skip
    return row


def remove_domain(session: Session, *, user: User, organization_id: int, domain_id: int) -> None:
    """Also on a plan without the feature: what was added can always be taken away."""
    row = get_domain(session, user=user, organization_id=organization_id, domain_id=domain_id)
    session.delete(row)
    _audit(
        session, organization_id, user, "company_domain.removed",
        f"Company domain {row.domain} removed",
    )  # fmt: skip
    session.flush()


def recheck_pending(
    session: Session, *, now: datetime | None = None, batch: int = 200
) -> list[CompanyDomain]:
    """The frequent background look-up, as for short-link domains: a company domain never
    verified, added in the last 48 hours and not looked up for
    PENDING_DOMAIN_RECHECK_SECONDS is looked up again, so it turns Verified once its TXT
    record is published without anyone pressing Verify. Skipped: domains another
    organization holds verified, and organizations whose plan lost the feature. Returns the
    domains verified."""
    now = now or utcnow()
    every = timedelta(seconds=settings.pending_domain_recheck_seconds)
    due = session.exec(
        select(CompanyDomain)
        .where(
            col(CompanyDomain.status).in_([DomainStatus.PENDING, DomainStatus.FAILED]),
            col(CompanyDomain.verified_at).is_(None),
            CompanyDomain.created_at > now - custom_domains.PENDING_WINDOW,
            (col(CompanyDomain.checked_at).is_(None))
            | (col(CompanyDomain.checked_at) <= now - every),
        )
        .order_by(col(CompanyDomain.id))
        .limit(batch)
    ).all()
    verified = []
    for row in due:
        organization = session.get(Organization, row.organization_id)
        if organization is None or not is_available(session, organization):
            continue
        if held_elsewhere(session, row):
            continue
        check = custom_domains.check_record(row.domain, row.token)
        if not check.definitive:
            continue  # the resolver could not answer: next round
        if not check.ok:  # still missing, or wrong: what Verify would show, kept as it is
            row.checked_at = now
            session.add(row)
            continue
        try:
            # conditional (two processes at once verify and audit it once); nested, as
            # another organization may verify the same domain at this very moment
            with session.begin_nested():
                done = session.exec(
                    update(CompanyDomain)
                    .where(col(CompanyDomain.id) == row.id, CompanyDomain.status == row.status)
                    .values(
                        status=DomainStatus.VERIFIED,
                        failure_reason="",
                        checked_at=now,
                        verified_at=now,
                    )
                ).rowcount
        except IntegrityError:
            continue
        session.refresh(row)
        if done:
            _audit(
                session, row.organization_id, None, "company_domain.verified",
                f"Company domain {row.domain} verified (found by the automatic check)",
            )  # fmt: skip
            verified.append(row)
    session.flush()
    return verified


def reverify_due(
    session: Session, *, now: datetime | None = None, batch: int = 200
) -> list[CompanyDomain]:
    """The daily re-check, as for short-link domains: each verified company domain not
    checked for a day is looked up again; one whose record is gone or changed is failed (it
    stops offering joins and frees the domain for another organization) and the Owner is
    mailed. A DNS server that does not answer changes nothing. Returns the domains failed."""
    now = now or utcnow()
    due = session.exec(
        select(CompanyDomain)
        .where(
            CompanyDomain.status == DomainStatus.VERIFIED,
            (col(CompanyDomain.checked_at).is_(None))
            | (col(CompanyDomain.checked_at) <= now - custom_domains.REVERIFY_EVERY),
        )
        .order_by(col(CompanyDomain.id))
        .limit(batch)
    ).all()
    failed = []
    for row in due:
        check = custom_domains.check_record(row.domain, row.token)
        if not check.definitive:
            continue
        if check.ok:
            row.checked_at = now
            session.add(row)
            continue
        # Conditional, so two app processes re-checking at once fail it (and mail) once.
        changed = session.exec(
            update(CompanyDomain)
            .where(col(CompanyDomain.id) == row.id, CompanyDomain.status == DomainStatus.VERIFIED)
            .values(status=DomainStatus.FAILED, failure_reason=check.reason[:200], checked_at=now)
        ).rowcount
        session.refresh(row)
        if changed:
            _audit(
                session, row.organization_id, None, "company_domain.failed",
                f"Company domain {row.domain} failed re-verification: {check.reason}",
            )  # fmt: skip
            _tell_owner_failed(session, row)
            failed.append(row)
    session.flush()
    return failed


def _tell_owner_failed(session: Session, row: CompanyDomain) -> None:
    owner = owner_of(session, row.organization_id)
    organization = session.get(Organization, row.organization_id)
    if owner is None or organization is None:
        return
    link = f"{settings.public_url}{routes.ORG_SETTINGS}"
    outbox.queue_mail(
        session,
        to=owner.email,
        subject=f"Company domain {row.domain} is no longer verified",
        body=(
            f"The company domain {row.domain} of {organization.name} failed verification: "
            f"{row.failure_reason}.\n\nPeople at {row.domain} are no longer offered to join. "
            f"Restore the TXT record {custom_domains.record_name(row.domain)} = "
            f'"{custom_domains.record_value(row.token)}" and press Verify now in Settings:\n'
            f"{link}\n"
        ),
        link=link,
        kind="company_domain_failed",
        organization_id=row.organization_id,
    )


def _held_elsewhere(domain: str) -> Conflict:
    return Conflict(
        f"{domain} is verified by another organization. A company domain belongs to one "
        "organization at a time: it must remove the domain before you can verify it."
    )


# --- the join policy --------------------------------------------------------------------------


def set_join_policy(
    session: Session, *, user: User, organization_id: int, policy: str, default_role: str
) -> CompanyDomainSettings:
    """Owner/Admin. Turning it off is allowed on any plan; on, only with the feature."""
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    if policy not in {p.value for p in JoinPolicy}:
        raise ValidationFailed({"policy": "Choose Off, Join automatically or Ask to join."})
    if default_role not in {r.value for r in ASSIGNABLE_ROLES}:
        raise ValidationFailed({"default_role": "Choose Admin, Billing Admin, Agent or Viewer."})
    if policy != JoinPolicy.OFF and not is_available(session, organization):
        raise FeatureLocked()
    row = session.get(CompanyJoinSettings, organization_id) or CompanyJoinSettings(
        organization_id=organization_id
    )
    if (row.policy, row.default_role) != (policy, default_role):
        row.policy, row.default_role, row.updated_at = policy, default_role, utcnow()
        session.add(row)
        said = POLICY_LABELS[JoinPolicy(policy)]
        if policy == JoinPolicy.AUTOMATIC:
            said += f" as {Role(default_role).label}"
        elif policy == JoinPolicy.REQUEST:
            said += f", as {Role(default_role).label} once approved"
        _audit(
            session, organization_id, user, "company_domain.join_policy_changed",
            f"Join by company domain: {said}",
        )  # fmt: skip
        session.flush()
    return get_settings(session, user=user, organization_id=organization_id)


# --- joining ----------------------------------------------------------------------------------


def join_by_domain(session: Session, *, viewer: Viewer, organization_id: int) -> bool:
    """The person accepts the offer. Automatic: they join with the default role (a seat is
    taken; NoSeatsAvailable when none is free) and the organization becomes their active
    workspace; returns True. By request: a pending request for the Owner/Admins (asking
    twice changes nothing); returns False."""
    user = viewer.user
    if user.email_confirmed_at is None:
        raise PermissionDenied("Confirm your email address before joining an organization.")
    seats.lock_organization(session, organization_id)
    offer = join_offer(session, user)
    if offer is None or offer.organization_id != organization_id:
        if membership_of(session, user, organization_id) is not None:
            raise Conflict("You are already a member of this organization.")
        raise PermissionDenied("This organization does not offer joining to your email address.")
    organization = session.get(Organization, organization_id)
    join = session.get(CompanyJoinSettings, organization_id)
    if offer.policy == JoinPolicy.AUTOMATIC:
        _add_member(
            session, organization, user, join.default_role, how=f"company domain {offer.domain}"
        )
        accounts.switch_workspace(session, viewer, organization_id)
        return True
    request = _request_of(session, organization_id, user.id)
    if request is not None and request.status == JoinRequestStatus.PENDING:
        return False
    request = request or JoinRequest(organization_id=organization_id, user_id=user.id)
    request.status, request.created_at = JoinRequestStatus.PENDING, utcnow()
    request.decided_at = request.decided_by_id = None
    session.add(request)
    session.flush()
    _audit(
        session, organization_id, user, "member.join_requested",
        f"{user.email} asked to join (company domain {offer.domain})",
    )  # fmt: skip
    _tell_managers(session, organization, user)
    return False


def dismiss_offer(session: Session, *, user: User, organization_id: int) -> None:
    """ "Not now": the offer is no longer shown (a pending request is withdrawn)."""
    offer = join_offer(session, user)
    if offer is None or offer.organization_id != organization_id:
        return
    request = _request_of(session, organization_id, user.id) or JoinRequest(
        organization_id=organization_id, user_id=user.id
    )
    request.status, request.decided_at = JoinRequestStatus.DISMISSED, utcnow()
    session.add(request)
    session.flush()


def no_rejoin(session: Session, *, organization_id: int, user_id: int, removed: bool) -> None:
    """A member removed (`removed`) or leaving is not offered to join by domain again: an
    automatic policy would otherwise let a removed person straight back in. An invite still
    brings them back. Called by `members` (and whatever else ends a membership)."""
    request = _request_of(session, organization_id, user_id) or JoinRequest(
        organization_id=organization_id, user_id=user_id
    )
    request.status = JoinRequestStatus.DECLINED if removed else JoinRequestStatus.DISMISSED
    request.decided_at = utcnow()
    session.add(request)
    session.flush()


def approve_request(session: Session, *, user: User, organization_id: int, request_id: int) -> None:
    """Owner/Admin: the person joins with the policy's default role, taking a seat
    (NoSeatsAvailable when none is free: the request stays pending)."""
    organization, _ = require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    if not is_available(session, organization):
        raise FeatureLocked()
    seats.lock_organization(session, organization_id)
    request = _pending_request(session, organization_id, request_id)
    person = session.get(User, request.user_id)
    join = session.get(CompanyJoinSettings, organization_id)
    role = join.default_role if join else Role.VIEWER
    if membership_of(session, person, organization_id) is None:
        _add_member(session, organization, person, role, how="join request approved", actor=user)
    request.status, request.decided_at, request.decided_by_id = (
        JoinRequestStatus.APPROVED,
        utcnow(),
        user.id,
    )
    session.add(request)
    link = f"{settings.public_url}{routes.ORGANIZATION}"
    outbox.queue_mail(
        session,
        to=person.email,
        subject=f"You joined {organization.name} on orgportal",
        body=(
            f"{user.display_name} approved your request: you are now a member of "
            f"{organization.name} as {Role(role).label}.\n\nSwitch to it here:\n{link}\n"
        ),
        link=link,
        kind="join_approved",
        organization_id=organization_id,
    )
    session.flush()


def decline_request(session: Session, *, user: User, organization_id: int, request_id: int) -> None:
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    request = _pending_request(session, organization_id, request_id)
    person = session.get(User, request.user_id)
    request.status, request.decided_at, request.decided_by_id = (
        JoinRequestStatus.DECLINED,
        utcnow(),
        user.id,
    )
    session.add(request)
    _audit(
        session, organization_id, user, "member.join_declined",
        f"Join request of {person.email if person else 'a deleted account'} declined",
    )  # fmt: skip
    session.flush()


# --- helpers ----------------------------------------------------------------------------------


def _add_member(
    session: Session,
    organization: Organization,
    person: User,
    role: str,
    *,
    how: str,
    actor: User | None = None,
) -> None:
    """One membership inside the seat lock, as an accepted invite makes one."""
    seats.require_free_seat(session, organization)
    session.add(Membership(organization_id=organization.id, user_id=person.id, role=role))
    session.flush()
    usage_counters.resync(session, [person.id])  # may now draw on the organization's plan
    mark_usage_changed(session, [organization.id])  # members / seats bar
    notifications.member_joined(session, organization, person, role)  # Owners/Admins (§17)
    webhooks.emit(
        session,
        organization.id,
        "member.joined",
        {"user_id": person.id, "email": person.email, "role": role},
    )
    _audit(
        session, organization.id, actor or person, "member.joined",
        f"{person.email} joined as {Role(role).label} ({how})",
    )  # fmt: skip


def _request_of(session: Session, organization_id: int, user_id: int) -> JoinRequest | None:
    return session.exec(
        select(JoinRequest).where(
            JoinRequest.organization_id == organization_id, JoinRequest.user_id == user_id
        )
    ).first()


def _pending_request(session: Session, organization_id: int, request_id: int) -> JoinRequest:
    request = organization_row(
        session, JoinRequest, request_id, organization_id, "Join request not found."
    )
    session.refresh(request)  # another Admin may have decided it first
    if request.status != JoinRequestStatus.PENDING:
        raise Conflict(f"This join request was already {request.status}.")
    return request


def _tell_managers(session: Session, organization: Organization, person: User) -> None:
    """Mail the Owner and Admins that someone asks to join."""
    managers = session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.organization_id == organization.id,
            col(Membership.role).in_([Role.OWNER, Role.ADMIN]),
        )
    ).all()
    link = f"{settings.public_url}{routes.ORG_MEMBERS}"
    for manager in managers:
        outbox.queue_mail(
            session,
            to=manager.email,
            subject=f"{person.email} asks to join {organization.name}",
            body=(
                f"{person.display_name} ({person.email}) asks to join {organization.name} by "
                f"its company domain.\n\nApprove or decline on the Members page:\n{link}\n"
            ),
            link=link,
            kind="join_request",
            organization_id=organization.id,
        )


def _audit(session: Session, organization_id: int, actor: User | None, action: str, summary: str):
    audit.record(
        session, organization_id=organization_id, actor=actor, action=action, summary=summary
    )
