"""Enforce SSO (SPEC §16): people at an organization's verified company domains sign in
through its identity provider, not with a password.

Kept apart from `sso.py` so that password sign-in (`accounts.sign_in`) can ask without
importing the single sign-on machinery (which itself opens sessions through `accounts`).

The Owner keeps a password sign-in (break-glass: the IdP may be down or misconfigured), and
each such sign-in is audited. Enforcement holds only while the organization's plan includes
single sign-on: a downgrade ends SSO, so it must give passwords back too.
"""

from sqlmodel import Session, col, select

from orgportal.models import (
    CompanyDomain,
    DomainStatus,
    Membership,
    Organization,
    Role,
    SsoConnection,
    User,
)
from orgportal.services import audit, plans
from orgportal.services.errors import PermissionDenied

USE_SSO = (
    "{organization} signs in its people with single sign-on. Use \u201cContinue with SSO\u201d "
    "with your work email instead of a password."
)


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


def check_password_sign_in(session: Session, user: User) -> None:
    """Call once the password is known to be right: refuses (PasswordRefused) a person at a
    domain whose organization enforces SSO, except its Owner, whose break-glass sign-in is
    recorded in the organization's audit log."""
    organization = enforcing_organization(session, user.email)
    if organization is None:
        return
    owner = session.exec(
        select(Membership).where(
            Membership.organization_id == organization.id,
            Membership.user_id == user.id,
            Membership.role == Role.OWNER,
        )
    ).first()
    if owner is None:
        raise PasswordRefused(USE_SSO.format(organization=organization.name))
    audit.record(
        session,
        organization_id=organization.id,
        actor=user,
        action="sso.break_glass_sign_in",
        summary=f"{user.email} signed in with a password while SSO is enforced (break-glass)",
    )
