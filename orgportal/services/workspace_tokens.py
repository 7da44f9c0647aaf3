"""Workspace tokens: what switching workspace through the API hands out (SPEC §8).

`POST /api/organizations/{id}/switch` answers a new bearer token carrying that
organization (or the Personal Workspace). The API key itself is not changed, so every
other script using the same key keeps its own workspace. A token:

- acts as the key's user, in its organization only, with that user's current role there;
- lives `LIFETIME` and can be revoked on its own (`revoke`); revoking the key (or anything
  that revokes all of a user's keys) ends its tokens too, as every use checks the key;
- stops working in an organization its user no longer belongs to, and is deleted with it;
- shares its key's rate limit (the caller's `key_id` is the key's);
- is stored as a SHA-256 only, like keys and sessions (256 random bits need no salt).
"""

from datetime import timedelta

from sqlmodel import Session, col, delete, select

from orgportal import security
from orgportal.db import mark_user_access_changed
from orgportal.models import ApiKey, Organization, Role, User, WorkspaceToken
from orgportal.models.base import utcnow
from orgportal.services import api_keys
from orgportal.services.api_keys import ApiCaller
from orgportal.services.errors import NotAuthenticated, NotFound, PermissionDenied
from orgportal.services.permissions import Permission, membership_of, require

TOKEN_PREFIX = "opw_"
LIFETIME = timedelta(hours=1)


class NotAWorkspaceToken(NotFound):
    """Revoking "this call's workspace token" when the call is made with a key: there is
    none to revoke (404, as for any missing object)."""


def is_token(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(TOKEN_PREFIX)


def authenticate_bearer(session: Session, raw: str | None) -> ApiCaller:
    """The caller behind `Authorization: Bearer …`: an API key or a workspace token."""
    if is_token(raw):
        return authenticate(session, raw)
    return api_keys.authenticate(session, raw)


def issue(
    session: Session, *, caller: ApiCaller, organization_id: int | None
) -> tuple[str, WorkspaceToken, Organization | None, Role]:
    """A new token for `organization_id` (None: the Personal Workspace) from the caller's
    key, whether the caller used the key or one of its tokens. Non-members get NotFound,
    as everywhere. Returns the secret (shown once), the row, the organization and the
    user's role there. The key's expired tokens are deleted on the way."""
    if caller.organization_key_id is not None:
        raise PermissionDenied(
            "An organization API key works only in its own organization: it cannot switch."
        )
    organization, role = None, Role.OWNER
    if organization_id is not None:
        organization, membership = require(session, caller.user, organization_id, Permission.VIEW)
        role = Role(membership.role)
    key = session.get(ApiKey, caller.key_id)
    if key is None or key.revoked_at is not None:
        raise NotAuthenticated("This API key has been revoked.")
    now = utcnow()
    session.exec(  # type: ignore[call-overload]
        delete(WorkspaceToken).where(
            col(WorkspaceToken.key_id) == key.id, col(WorkspaceToken.expires_at) <= now
        )
    )
    raw = TOKEN_PREFIX + security.new_token()
    token = WorkspaceToken(
        key_id=key.id,
        organization_id=organization_id,
        token_hash=security.token_hash(raw),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(token)
    session.flush()
    return raw, token, organization, role


def authenticate(session: Session, raw: str | None) -> ApiCaller:
    """The caller behind a workspace token, or NotAuthenticated: unknown, expired, revoked,
    its key revoked, or its user no longer a member of its organization."""
    token = session.exec(
        select(WorkspaceToken).where(WorkspaceToken.token_hash == security.token_hash(raw or ""))
    ).first()
    if token is None:
        raise NotAuthenticated("This workspace token is not valid.")
    if token.revoked_at is not None:
        raise NotAuthenticated("This workspace token has been revoked.")
    if token.expires_at <= utcnow():
        raise NotAuthenticated(
            "This workspace token has expired: switch again with your API key "
            "(POST /api/organizations/{id}/switch)."
        )
    key = session.get(ApiKey, token.key_id)
    user = session.get(User, key.user_id) if key else None
    if key is None or user is None:
        raise NotAuthenticated("This workspace token is not valid.")
    if key.revoked_at is not None:
        raise NotAuthenticated("The API key this workspace token came from has been revoked.")
    if (
        token.organization_id is not None
        and membership_of(session, user, token.organization_id) is None
    ):
        raise NotAuthenticated("You are no longer a member of this workspace token's organization.")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= api_keys.LAST_USED_PRECISION:
        key.last_used_at = now  # the key is in use through its token
        session.add(key)
    return ApiCaller(
        user=user,
        key_id=key.id,
        active_org_id=token.organization_id,
        token_id=token.id,
        expires_at=token.expires_at,
    )


def revoke(session: Session, *, caller: ApiCaller) -> WorkspaceToken:
    """End the workspace token this call is made with, at once on every worker."""
    token = session.get(WorkspaceToken, caller.token_id) if caller.token_id else None
    if token is None:
        raise NotAWorkspaceToken(
            "This call is made with an API key, not a workspace token: there is no token to "
            "revoke (API keys are revoked on your account page)."
        )
    token.revoked_at = utcnow()
    session.add(token)
    mark_user_access_changed(session, [caller.user.id])  # cached callers drop it
    return token
