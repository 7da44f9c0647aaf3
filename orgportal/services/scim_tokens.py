"""SCIM bearer tokens (SPEC §16): an organization's identity provider authenticates with one.

Owners and Admins generate the token on the organization's Settings page; it is shown once
and only its SHA-256 is stored (256 random bits need no salt, as for API keys). Generating a
new token revokes the one before (rotation), Revoke ends it; either works at once. The token
identifies the organization, not a person: provisioning acts for the organization itself.
SCIM provisioning is part of the Unlimited plan (`plans.IDENTITY`): without it no token can
be generated, and an existing one is refused on every call until the plan returns.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from orgportal import security
from orgportal.config import settings
from orgportal.models import Organization, ScimToken, User
from orgportal.models.base import utcnow
from orgportal.services import audit, plans
from orgportal.services.errors import NotAuthenticated, NotFound, PermissionDenied
from orgportal.services.permissions import Permission, require

TOKEN_PREFIX = "scim_"
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# `last_used_at` at a minute's precision: a provider syncing often must not turn reads into writes
LAST_USED_PRECISION = timedelta(minutes=1)
PLAN_REQUIRED = (
    "SCIM provisioning is part of the Unlimited plan. Upgrade the organization's plan to "
    "connect an identity provider."
)


@dataclass(frozen=True)
class ScimSetup:
    """What the settings card shows: whether the plan has SCIM, and the working token."""

    available: bool
    plan_name: str  # the plan that has it, for the locked note
    base_url: str  # what the identity provider is given: https://…/scim/v2
    prefix: str = ""  # "" when no token works
    created_at: datetime | None = None
    last_used_at: datetime | None = None


BASE_PATH = "/scim/v2"


def base_url() -> str:
    return settings.public_url.rstrip("/") + BASE_PATH


def has_identity(session: Session, organization: Organization) -> bool:
    return plans.IDENTITY in plans.organization_plan(session, organization).features


def identity_plan_name() -> str:
    return ", ".join(plan.name for plan in plans.plans_with(plans.IDENTITY))


def read_setup(session: Session, *, user: User, organization_id: int) -> ScimSetup:
    organization, _ = require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    token = _working_token(session, organization_id)
    available = has_identity(session, organization)
    if token is None:
        return ScimSetup(available, identity_plan_name(), base_url())
    return ScimSetup(
        available, identity_plan_name(), base_url(), token.prefix, token.created_at,
        token.last_used_at,
    )  # fmt: skip


def is_connected(session: Session, organization_id: int) -> bool:
    """Whether a token works now (a downgrade's summary says provisioning would stop)."""
    return _working_token(session, organization_id) is not None


def generate_token(session: Session, *, user: User, organization_id: int) -> str:
    """A new token for the organization (the old one stops working); the secret is returned
    once and never shown again."""
    organization, _ = require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    if not has_identity(session, organization):
        raise PermissionDenied(PLAN_REQUIRED)
    replaced = _revoke_working(session, organization_id)
    raw = TOKEN_PREFIX + security.new_token()
    session.add(
        ScimToken(
            organization_id=organization_id,
            token_hash=security.token_hash(raw),
            prefix=raw[:PREFIX_LENGTH],
            created_by_id=user.id,
        )
    )
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="scim.token_generated",
        summary="Generated a new SCIM token"
        + (" (the previous one was revoked)" if replaced else ""),
    )
    return raw


def revoke_token(session: Session, *, user: User, organization_id: int) -> None:
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    if not _revoke_working(session, organization_id):
        raise NotFound("There is no SCIM token to revoke.")
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="scim.token_revoked",
        summary="Revoked the SCIM token: the identity provider can no longer provision",
    )


def authenticate(session: Session, raw_token: str | None) -> int:
    """The organization a bearer token belongs to, or a refusal: NotAuthenticated for a
    missing, unknown or revoked token; PermissionDenied while the plan lacks SCIM."""
    if not raw_token:
        raise NotAuthenticated("Send the organization's SCIM token: Authorization: Bearer <token>.")
    token = session.exec(
        select(ScimToken).where(ScimToken.token_hash == security.token_hash(raw_token))
    ).first()
    if token is None or token.revoked_at is not None:
        raise NotAuthenticated("This SCIM token is not valid or has been revoked.")
    organization = session.get(Organization, token.organization_id)
    if organization is None:
        raise NotAuthenticated("This SCIM token is not valid or has been revoked.")
    if not has_identity(session, organization):
        raise PermissionDenied(PLAN_REQUIRED)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        session.add(token)
    return organization.id


def _working_token(session: Session, organization_id: int) -> ScimToken | None:
    return session.exec(
        select(ScimToken).where(
            ScimToken.organization_id == organization_id, col(ScimToken.revoked_at).is_(None)
        )
    ).first()


def _revoke_working(session: Session, organization_id: int) -> int:
    result = session.exec(
        update(ScimToken)
        .where(
            col(ScimToken.organization_id) == organization_id, col(ScimToken.revoked_at).is_(None)
        )
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0
