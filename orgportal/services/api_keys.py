"""API keys (SPEC §8): create, list, revoke, authenticate, and the key's active workspace
(switching hands out workspace tokens instead: services/workspace_tokens.py).

A key is shown once, at creation; only its SHA-256 is stored (like sessions: 256 random
bits need no salt). A key acts as its user with that user's roles, so every use case the
API offers goes through the same services, and the same permission checks, as the pages.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from orgportal import routes, security
from orgportal.config import settings
from orgportal.db import mark_user_access_changed
from orgportal.models import ApiKey, User
from orgportal.models.base import utcnow
from orgportal.services import accounts, outbox, two_factor
from orgportal.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.permissions import membership_of
from orgportal.services.validation import FieldError, text

KEY_PREFIX = "op_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # "op_" and the secret's first 8 characters
MAX_ACTIVE_KEYS = 25
# Writing `last_used_at` on every request would turn each read into a write; a minute's
# precision is all the account page shows.
LAST_USED_PRECISION = timedelta(minutes=1)
KEYS_REVOKED = "api_keys_revoked"  # the outbox kind of the mail saying so


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling through the API: the key's user, re-read from the database each call."""

    user: User
    key_id: int
    active_org_id: int | None
    # An organization API key (services/organization_keys.py): `user` is its service
    # account, `active_org_id` its organization, fixed; `key_id` is then that key's id.
    organization_key_id: int | None = None

    @property
    def rate_limit_key(self) -> str | int:
        """The rate limiter's bucket: personal and organization key ids never share one."""
        return self.key_id if self.organization_key_id is None else f"org:{self.key_id}"
    # Set when the call is made with a workspace token (services/workspace_tokens.py)
    # rather than the key itself: its id, and when it stops working.
    token_id: int | None = None
    expires_at: datetime | None = None


def create_key(
    session: Session,
    *,
    user: User,
    name: str,
    active_org_id: int | None,
    password: str = "",
    code: str = "",
) -> tuple[str, ApiKey]:
    """A new key starting in `active_org_id` (the creator's active workspace), for a user
    who proves it is them again: the current `password`, or with two-factor sign-in on, a
    current `code` instead. A key outlives the session that made it, so a browser left
    signed in, or a stolen session, must not be enough to mint one; and an
    account whose address is not confirmed gets none, as a key would outlive its owner
    proving the address (SPEC §1).

    Returns the full secret, which is never shown again, and the stored row.
    """
    if user.email_confirmed_at is None:
        raise PermissionDenied(
            "Confirm your email address before creating API keys: open the link we sent to "
            f"{user.email} (the banner above can send it again)."
        )
    try:
        clean_name = text(name, label="Key name", min_len=1, max_len=80)
    except FieldError as exc:
        raise ValidationFailed({"name": str(exc)}) from exc
    _prove_it_is_them(session, user, password=password, code=code)
    if active_org_id is not None and membership_of(session, user, active_org_id) is None:
        active_org_id = None  # a workspace the user has left: start in Personal instead
    active = session.exec(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user.id, col(ApiKey.revoked_at).is_(None))
    ).one()
    if active >= MAX_ACTIVE_KEYS:
        raise Conflict(f"You can have at most {MAX_ACTIVE_KEYS} API keys. Revoke one first.")
    raw = KEY_PREFIX + security.new_token()
    key = ApiKey(
        user_id=user.id,
        name=clean_name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=security.token_hash(raw),
        active_org_id=active_org_id,
    )
    session.add(key)
    session.flush()
    return raw, key


def _prove_it_is_them(session: Session, user: User, *, password: str, code: str) -> None:
    if code.strip() and two_factor.totp_enabled(session, user.id):
        two_factor.verify_code(session, user=user, code=code, field="key_code")
        return
    accounts.verify_current_password(session, user, password, "key_password")


def revoke_all(session: Session, *, user: User, because: str) -> int:
    """Revoke every working key of the user (a password reset or change, "Sign out
    everywhere else": whatever a thief minted with a stolen session must stop too), mail
    the user when there were any, and return how many. `because` completes "… because you
    …" in that mail."""
    keys = session.exec(
        select(ApiKey).where(ApiKey.user_id == user.id, col(ApiKey.revoked_at).is_(None))
    ).all()
    if not keys:
        return 0
    now = utcnow()
    for key in keys:
        key.revoked_at = now
        session.add(key)
    mark_user_access_changed(session, [user.id])  # refused at once by every worker
    names = ", ".join(key.name for key in keys)
    outbox.queue_mail(
        session,
        to=user.email,
        subject="Your orgportal API keys were revoked",
        body=f"Hello {user.first_name},\n\nYour API keys ({names}) were revoked because you "
        f"{because}. Scripts and plugins using them now get 401 Unauthorized.\n\n"
        "Create new keys on your account page once you are signed in again. If you did not "
        "do this, reset your password at once.\n",
        link=f"{settings.public_url}{routes.ACCOUNT_SECURITY}",  # where API keys are made
        kind=KEYS_REVOKED,
        user_id=user.id,
    )
    return len(keys)


def list_keys(session: Session, *, user: User) -> list[ApiKey]:
    """The user's keys that still work, newest first."""
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.user_id == user.id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
        )
    )


def revoke_key(session: Session, *, user: User, key_id: int) -> ApiKey:
    """The key stops working at once; another user's key id is simply not found."""
    key = session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id or key.revoked_at is not None:
        raise NotFound("API key not found.")
    key.revoked_at = utcnow()
    session.add(key)
    mark_user_access_changed(session, [user.id])  # refused at once by every worker
    return key


def authenticate(session: Session, raw_key: str | None) -> ApiCaller:
    """The caller behind a bearer key, or NotAuthenticated (missing, unknown or revoked)."""
    if not raw_key:
        raise NotAuthenticated("Send an API key: Authorization: Bearer <key>.")
    from orgportal.services import organization_keys  # it builds on this module

    if organization_keys.is_organization_key(raw_key):
        return organization_keys.authenticate(session, raw_key)
    key = session.exec(
        select(ApiKey).where(ApiKey.key_hash == security.token_hash(raw_key))
    ).first()
    if key is None:
        raise NotAuthenticated("This API key is not valid.")
    if key.revoked_at is not None:
        raise NotAuthenticated("This API key has been revoked.")
    user = session.get(User, key.user_id)
    if user is None:
        raise NotAuthenticated("This API key is not valid.")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        key.last_used_at = now
        session.add(key)
    return ApiCaller(user=user, key_id=key.id, active_org_id=key.active_org_id)


def active_workspace(session: Session, caller: ApiCaller) -> int | None:
    """The caller's workspace for links: its organization while the user is still a member
    there, else (removed, or the organization is gone) the Personal Workspace again. A
    workspace token never falls back: its organization is all it carries."""
    org_id = caller.active_org_id
    if caller.organization_key_id is not None:  # pinned to its organization
        return org_id
    if org_id is None or membership_of(session, caller.user, org_id) is not None:
        return org_id
    if caller.token_id is not None:
        raise NotAuthenticated("You are no longer a member of this workspace token's organization.")
    key = session.get(ApiKey, caller.key_id)
    if key is not None:
        key.active_org_id = None
        session.add(key)
        mark_user_access_changed(session, [caller.user.id])
    return None

