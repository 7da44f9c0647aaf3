"""Organization API keys (SPEC §8, §17): service accounts with scopes, owned by an organization.

Owners and Admins create, rotate and revoke them; a key survives whoever leaves, its creator
included. The secret is shown once and only its SHA-256 is stored, as for personal keys
(`api_keys`). Each key acts through a user row of its own (`service_user_id`: no password,
no membership, never listed as a member or counted as a seat), and is pinned to its
organization: its REST caller's workspace is that organization and nothing else.

Scopes are enforced where roles are: `permissions.require` asks `membership` for the key's
standing in an organization and `refusal` for what its scopes allow, so every service that
checks a role checks a key's scopes the same way. Every scope includes reading the
organization (`Permission.VIEW`: a key that could not read its own organization would be
of no use); the others add what their name says, and nothing else is ever granted
(editing the organization, billing changes, the audit log, deleting, transferring).
Towards the role-comparisons some services make (inviting, deleting another's link), a key
stands as an Admin, never as the Owner.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, delete, func, select

from orgportal import security
from orgportal.db import mark_user_access_changed
from orgportal.models import Membership, Organization, OrganizationApiKey, Role, User
from orgportal.models.base import utcnow
from orgportal.services import accounts, audit, two_factor
from orgportal.services.api_keys import ApiCaller
from orgportal.services.client_address import current as current_address
from orgportal.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.paging import one_page
from orgportal.services.permissions import Permission, require
from orgportal.services.validation import FieldError, text

KEY_PREFIX = "opk_"  # personal keys start "op_": the two never mistake each other
PREFIX_LENGTH = len(KEY_PREFIX) + 8
MAX_ACTIVE_KEYS = 50  # per organization
MAX_EXPIRY = timedelta(days=3 * 366)
LAST_USED_PRECISION = timedelta(minutes=1)  # as for personal keys: a read is not a write
SERVICE_EMAIL_DOMAIN = "api-keys.orgportal.invalid"  # `.invalid`: no mail can ever leave
KEY_ROLE = Role.ADMIN  # how a key stands in role comparisons (never Owner)
MANAGED_BY = Permission.EDIT_ORGANIZATION  # Owners and Admins


@dataclass(frozen=True)
class Scope:
    code: str
    label: str
    description: str
    permissions: frozenset[Permission]


P = Permission
SCOPES: dict[str, Scope] = {
    scope.code: scope
    for scope in (
        Scope(
            "read",
            "Read-only",
            "Read the organization, its members, links, usage and analytics",
            frozenset({P.VIEW}),
        ),
        Scope("links", "Links", "Create and delete links", frozenset({P.VIEW, P.CREATE_ITEMS})),
        Scope(
            "members",
            "Members",
            "Invite members, change roles, remove members",
            frozenset({P.VIEW, P.MANAGE_MEMBERS}),
        ),
        Scope(
            "tickets",
            "Tickets",
            "Read and answer support tickets",
            frozenset({P.VIEW, P.HANDLE_TICKETS}),
        ),
        Scope(
            "billing_read",
            "Billing (read)",
            "Read the subscription, its renewal and support seats",
            frozenset({P.VIEW, P.VIEW_BILLING}),
        ),
    )
}
# Which scope a key needs for a permission, to say so when it is refused.
NEEDED_SCOPE = {
    P.CREATE_ITEMS: "links",
    P.MANAGE_MEMBERS: "members",
    P.HANDLE_TICKETS: "tickets",
    P.VIEW_BILLING: "billing_read",
}


def scope_codes(key: OrganizationApiKey) -> list[str]:
    return [code for code in key.scopes.split(",") if code in SCOPES]


def scope_labels(codes: list[str]) -> str:
    return ", ".join(SCOPES[code].label for code in codes)


def allows(key: OrganizationApiKey, permission: Permission) -> bool:
    return any(permission in SCOPES[code].permissions for code in scope_codes(key))


# --- managing keys (Owner/Admin) ----------------------------------------------------------


def create_key(
    session: Session,
    *,
    user: User,
    organization_id: int,
    name: str,
    scopes: list[str],
    expires_on: str | date | None = None,
    password: str = "",
    code: str = "",
) -> tuple[str, OrganizationApiKey]:
    """A new key of the organization. Returns the full secret, which is never shown again,
    and the stored row. `expires_on` (a date, or "YYYY-MM-DD"; empty for never): the key
    works through that day (UTC). As for a personal key, the creator proves it is them
    again (`prove_it_is_them`)."""
    organization, _ = require(session, user, organization_id, MANAGED_BY)
    errors: dict[str, str] = {}
    try:
        clean_name = text(name, label="Key name", min_len=1, max_len=80, single_line=True)
    except FieldError as exc:
        errors["name"] = str(exc)
    codes = _clean_scopes(scopes, errors)
    expires_at = _expiry(expires_on, errors)
    if errors:
        raise ValidationFailed(errors)
    prove_it_is_them(session, user, password=password, code=code)
    active = session.exec(
        select(func.count())
        .select_from(OrganizationApiKey)
        .where(
            OrganizationApiKey.organization_id == organization_id,
            col(OrganizationApiKey.revoked_at).is_(None),
        )
    ).one()
    if active >= MAX_ACTIVE_KEYS:
        raise Conflict(
            f"{organization.name} can have at most {MAX_ACTIVE_KEYS} API keys. Revoke one first."
        )
    service_user = User(
        email=_service_email(clean_name),
        password_hash="!",  # no password ever verifies against it: it cannot sign in
        first_name=clean_name,
        last_name="(API key)",
        email_confirmed_at=utcnow(),
    )
    session.add(service_user)
    session.flush()
    raw = KEY_PREFIX + security.new_token()
    key = OrganizationApiKey(
        organization_id=organization_id,
        service_user_id=service_user.id,
        created_by_id=user.id,
        name=clean_name,
        scopes=",".join(codes),
        prefix=raw[:PREFIX_LENGTH],
        key_hash=security.token_hash(raw),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="api_key.created",
        summary=f"Created API key {clean_name} ({key.prefix}…) with scopes: "
        f"{scope_labels(codes)}"
        + (f"; expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""),
    )
    return raw, key


def prove_it_is_them(session: Session, user: User, *, password: str, code: str) -> None:
    """A secret outlives the session that made it, so a browser left signed in, or a stolen
    session, must not be enough to mint one: the current password, or with two-factor
    sign-in on, a current code instead (ValidationFailed on `key_password` / `key_code`);
    and only a confirmed address, as for personal keys (SPEC §1)."""
    if user.email_confirmed_at is None:
        raise PermissionDenied(
            "Confirm your email address before creating API keys: open the link we sent to "
            f"{user.email} (the banner above can send it again)."
        )
    if code.strip() and two_factor.is_enabled(session, user.id):
        two_factor.verify_code(session, user=user, code=code, field="key_code")
        return
    accounts.verify_current_password(session, user, password, "key_password")


def _service_email(name: str) -> str:
    """What the audit log shows as the actor of what the key does: `api-key-zapier-…@…`."""
    readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30].strip("-") or "key"
    return f"api-key-{readable}-{secrets.token_hex(6)}@{SERVICE_EMAIL_DOMAIN}"


def _clean_scopes(scopes: list[str], errors: dict[str, str]) -> list[str]:
    chosen = {str(code).strip() for code in scopes or [] if str(code).strip()}
    unknown = sorted(chosen - SCOPES.keys())
    if unknown:
        errors["scopes"] = f"Unknown scope {', '.join(unknown)}: choose from {', '.join(SCOPES)}."
    elif not chosen:
        errors["scopes"] = "Choose at least one scope."
    return [code for code in SCOPES if code in chosen]  # in the table's order


def _expiry(expires_on: str | date | None, errors: dict[str, str]) -> datetime | None:
    if expires_on is None or (isinstance(expires_on, str) and not expires_on.strip()):
        return None
    if isinstance(expires_on, str):
        try:
            expires_on = date.fromisoformat(expires_on.strip())
        except ValueError:
            errors["expires_on"] = "Give the expiry date as YYYY-MM-DD, or leave it empty."
            return None
    expires_at = datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=UTC)
    now = utcnow()
    if expires_at <= now:
        errors["expires_on"] = "The expiry date must be today or later."
    elif expires_at - now > MAX_EXPIRY:
        errors["expires_on"] = "The expiry date can be at most three years away."
    return expires_at


def list_keys(
    session: Session, *, user: User, organization_id: int, limit: int = 20, offset: int = 0
) -> tuple[list[OrganizationApiKey], int]:
    """The organization's keys that are not revoked (expired ones too, marked so), newest
    first, a page at a time, and how many there are."""
    require(session, user, organization_id, MANAGED_BY)
    where = (
        OrganizationApiKey.organization_id == organization_id,
        col(OrganizationApiKey.revoked_at).is_(None),
    )
    return one_page(
        session,
        OrganizationApiKey,
        *where,
        order_by=(col(OrganizationApiKey.created_at).desc(), col(OrganizationApiKey.id).desc()),
        limit=min(limit, 100),
        offset=offset,
    )


def _working_key(session: Session, organization_id: int, key_id: int) -> OrganizationApiKey:
    key = session.get(OrganizationApiKey, key_id)
    if key is None or key.organization_id != organization_id or key.revoked_at is not None:
        raise NotFound("API key not found.")
    return key


def rotate_key(
    session: Session,
    *,
    user: User,
    organization_id: int,
    key_id: int,
    password: str = "",
    code: str = "",
) -> tuple[str, OrganizationApiKey]:
    """A new secret for the same key (name, scopes, expiry and history stay); the old
    secret stops working at once. Returns the new secret, shown once; like creating, it
    asks the member to prove it is them again."""
    require(session, user, organization_id, MANAGED_BY)
    key = _working_key(session, organization_id, key_id)
    prove_it_is_them(session, user, password=password, code=code)
    raw = KEY_PREFIX + security.new_token()
    old_prefix = key.prefix
    key.prefix, key.key_hash, key.rotated_at = (
        raw[:PREFIX_LENGTH],
        security.token_hash(raw),
        utcnow(),
    )
    session.add(key)
    mark_user_access_changed(session, [key.service_user_id])  # cached callers drop it
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="api_key.rotated",
        summary=f"Rotated API key {key.name} ({old_prefix}… → {key.prefix}…)",
    )
    return raw, key


def revoke_key(
    session: Session, *, user: User, organization_id: int, key_id: int
) -> OrganizationApiKey:
    """The key stops working at once; another organization's key id is simply not found."""
    require(session, user, organization_id, MANAGED_BY)
    key = _working_key(session, organization_id, key_id)
    key.revoked_at = utcnow()
    session.add(key)
    mark_user_access_changed(session, [key.service_user_id])
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="api_key.revoked",
        summary=f"Revoked API key {key.name} ({key.prefix}…)",
    )
    return key


def delete_for_organization(session: Session, organization_id: int) -> None:
    """With the organization: its keys' own users go (their keys and anything they made in
    it with them: ON DELETE CASCADE). Called by `organizations.remove`."""
    service_users = list(
        session.exec(
            select(OrganizationApiKey.service_user_id).where(
                OrganizationApiKey.organization_id == organization_id
            )
        )
    )
    if not service_users:
        return
    session.exec(delete(User).where(col(User.id).in_(service_users)))
    mark_user_access_changed(session, service_users)


# --- using keys -----------------------------------------------------------------------------


def is_organization_key(raw_key: str) -> bool:
    return raw_key.startswith(KEY_PREFIX)


def authenticate(session: Session, raw_key: str) -> ApiCaller:
    """The caller behind an organization key: its service user, pinned to its organization.
    Unknown, revoked or expired keys get NotAuthenticated. Records the last use (time and
    the client's address) at most once a minute, or when the address changes."""
    key = session.exec(
        select(OrganizationApiKey).where(
            OrganizationApiKey.key_hash == security.token_hash(raw_key)
        )
    ).first()
    if key is None:
        raise NotAuthenticated("This API key is not valid.")
    if key.revoked_at is not None:
        raise NotAuthenticated("This API key has been revoked.")
    now = utcnow()
    if key.expires_at is not None and key.expires_at <= now:
        raise NotAuthenticated(f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC.")
    user = session.get(User, key.service_user_id)
    if user is None or session.get(Organization, key.organization_id) is None:
        raise NotAuthenticated("This API key is not valid.")
    address = current_address()[:64]
    if (
        key.last_used_at is None
        or now - key.last_used_at >= LAST_USED_PRECISION
        or key.last_used_address != address
    ):
        key.last_used_at, key.last_used_address = now, address
        session.add(key)
    return ApiCaller(
        user=user, key_id=key.id, active_org_id=key.organization_id, organization_key_id=key.id
    )


def _key_of(session: Session, user: User) -> OrganizationApiKey | None:
    """The working key `user` is the service account of, else None (a person, or a key
    revoked or expired)."""
    if user.id is None or not user.email.endswith("@" + SERVICE_EMAIL_DOMAIN):
        return None  # a person: no query on their every permission check
    key = session.exec(
        select(OrganizationApiKey).where(OrganizationApiKey.service_user_id == user.id)
    ).first()
    if key is None or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= utcnow():
        return None
    return key


def is_service_account(session: Session, user: User) -> bool:
    """Whether `user` is an organization key's own user (working or not)."""
    return user.email.endswith("@" + SERVICE_EMAIL_DOMAIN) and (
        session.exec(
            select(OrganizationApiKey.id).where(OrganizationApiKey.service_user_id == user.id)
        ).first()
        is not None
    )


def pinned_workspace(session: Session, user: User) -> Organization | None:
    """The organization of the working key `user` is the service account of (its only
    workspace), else None."""
    key = _key_of(session, user)
    return session.get(Organization, key.organization_id) if key is not None else None


def membership(session: Session, user: User, organization_id: int) -> Membership | None:
    """A key's standing in its own organization, as a Membership that is never stored (so it
    is no member, no seat, in no list); None anywhere else, and for people."""
    key = _key_of(session, user)
    if key is None or key.organization_id != organization_id:
        return None
    return Membership(
        organization_id=organization_id,
        user_id=user.id,
        role=KEY_ROLE,
        joined_at=key.created_at,
    )


def refusal(
    session: Session, user: User, organization_id: int, permission: Permission
) -> PermissionDenied | None:
    """Why the key behind `user` may not do `permission` in its organization (None: it may).
    Called by `permissions.require` for keys, where it checks roles for people."""
    key = _key_of(session, user)
    if key is None or key.organization_id != organization_id:
        return PermissionDenied("This API key cannot act in this organization.")
    if allows(key, permission):
        return None
    needed = NEEDED_SCOPE.get(permission)
    has = scope_labels(scope_codes(key))
    if needed:
        return PermissionDenied(
            f"This API key's scopes ({has}) do not allow this action: it needs the "
            f"{SCOPES[needed].label} scope."
        )
    return PermissionDenied(
        f"This API key's scopes ({has}) do not allow this action: organization API keys "
        "never can. A member with the right role can do it."
    )


def refuse_service_account(session: Session, user: User, action: str) -> None:
    """For use cases outside any one organization (creating an organization): a key stays in
    its own organization."""
    if is_service_account(session, user):
        raise PermissionDenied(
            f"An organization API key cannot {action}: it works only inside its own organization."
        )
