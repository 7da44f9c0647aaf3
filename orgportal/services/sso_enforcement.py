"""Enforce SSO (SPEC §16): people at an organization's verified company domains sign in
through its identity provider, not with a password nor a passkey: the provider decides who
may come in (it may have disabled the person), so no sign-in may go around it.

Kept apart from `sso.py` so that password sign-in (`accounts.sign_in`) can ask without
importing the single sign-on machinery (which itself opens sessions through `accounts`).

The Owner keeps a password sign-in (break-glass: the IdP may be down or misconfigured), and
each such sign-in is audited. Enforcement holds only while the organization's plan includes
single sign-on: a downgrade ends SSO, so it must give passwords back too.
"""

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from orgportal.models import (
    CompanyDomain,
    DomainStatus,
    Membership,
    Organization,
    Role,
    SsoConnection,
    User,
    UserSession,
)
from orgportal.models.base import utcnow
from orgportal.services import audit, plans
from orgportal.services.errors import PermissionDenied

USE_SSO = (
    "{organization} signs in its people with single sign-on. Use \u201cContinue with SSO\u201d "
    "with your work email instead of {method}."
)
PASSWORD = "a password"
PASSKEY = "a passkey"


class PasswordRefused(PermissionDenied):
    """A password sign-in where SSO is enforced; the message tells the person to use SSO."""


def enforcing_organization(session: Session, email: str) -> Organization | None:
    """The organization that verified the address's domain and enforces SSO for it, while
    its plan includes single sign-on; else None."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    if not domain:
        return None
    row = session.exec(
        select(Organization)
        .join(CompanyDomain, col(CompanyDomain.organization_id) == Organization.id)
        .join(SsoConnection, col(SsoConnection.organization_id) == Organization.id)
        .where(
            CompanyDomain.domain == domain,
            CompanyDomain.status == DomainStatus.VERIFIED,
            col(SsoConnection.enforced).is_(True),
        )
    ).first()
    if row is None or plans.IDENTITY not in plans.organization_plan(session, row).features:
        return None
    return row


def check_password_sign_in(session: Session, user: User, *, method: str = PASSWORD) -> None:
    """Call once the password (or the passkey: `method=PASSKEY`) is known to be right:
    refuses (PasswordRefused) a person at a domain whose organization enforces SSO, except
    its Owner, whose break-glass sign-in is recorded in the organization's audit log."""
    organization = enforcing_organization(session, user.email)
    if organization is None:
        return
    if not _is_owner(session, organization.id, user.id):
        raise PasswordRefused(USE_SSO.format(organization=organization.name, method=method))
    audit.record(
        session,
        organization_id=organization.id,
        actor=user,
        action="sso.break_glass_sign_in",
        summary=f"{user.email} signed in with {method} while SSO is enforced (break-glass)",
    )


def end_local_sessions(session: Session, organization_id: int) -> int:
    """Enforce SSO was just turned on: end the sessions that people at the organization's
    verified company domains opened with a password or a passkey (they sign in again, through
    the identity provider). Sessions its provider opened stay, and so do its Owners' (their
    break-glass sign-in stays allowed). Returns how many sessions ended."""
    domains = session.exec(
        select(CompanyDomain.domain).where(
            CompanyDomain.organization_id == organization_id,
            CompanyDomain.status == DomainStatus.VERIFIED,
        )
    ).all()
    if not domains:
        return 0
    owners = select(Membership.user_id).where(
        Membership.organization_id == organization_id, Membership.role == Role.OWNER
    )
    people = select(User.id).where(
        or_(*(col(User.email).endswith(f"@{domain}") for domain in domains)),
        col(User.id).not_in(owners),
    )
    now = utcnow()
    result = session.exec(
        update(UserSession)
        .where(
            col(UserSession.user_id).in_(people),
            col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > now,
            (col(UserSession.sso_organization_id).is_(None))
            | (col(UserSession.sso_organization_id) != organization_id),
        )
        .values(revoked_at=now)
    )
    return result.rowcount or 0


def _is_owner(session: Session, organization_id: int, user_id: int) -> bool:
    return (
        session.exec(
            select(Membership.id).where(
                Membership.organization_id == organization_id,
                Membership.user_id == user_id,
                Membership.role == Role.OWNER,
            )
        ).first()
        is not None
    )
