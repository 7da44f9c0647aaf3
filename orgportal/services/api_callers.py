"""API key → caller, and caller → access to an organization, cached per worker.

Checking a key costs a hash lookup, a user read, a membership read and the organization's
Security settings; on a polled endpoint that is most of a request. So per worker:

- `caller(raw_key)`: the key's (or workspace token's) user, key id and workspace, tagged `("access_user", user)`,
  which key revocation, a workspace switch, two-factor changes and account deletion publish;
- `access(caller, organization_id)`: the caller is a member (with this role) and what the
  organization's Security settings ask of them (`org_security.AccessRule`; the client's
  address is checked on every request), tagged `("access", organization)` (role change,
  removal, leaving, Security settings, deletion), `("usage", organization)` (plan changes
  move the Security feature; membership changes move usage too) and the user's tag.

The worker that commits such a change drops its entries at the commit, the others when the
bus brings it (`adapters/worker_cache.py`). Refusals are never cached: a missing, revoked or
unknown key, or a non-member, always takes the database path and gets its usual answer.
A cached caller lives CALLER_TTL seconds at most, so `last_used_at` keeps its minute-ish
precision (each reload runs `api_keys.authenticate`, which writes it).
"""

from dataclasses import dataclass

from orgportal import security
from orgportal.adapters import worker_cache
from orgportal.db import unit_of_work
from orgportal.models import Role
from orgportal.models.base import utcnow
from orgportal.services import org_security, workspace_tokens
from orgportal.services.api_keys import ApiCaller
from orgportal.services.permissions import Permission, require

CALLER_TTL = 30.0
ACCESS_TTL = 60.0


@dataclass(frozen=True)
class Access:
    role: Role
    rule: org_security.AccessRule | None  # None: nothing enforced for this member


_callers: worker_cache.WorkerCache[str, ApiCaller] = worker_cache.WorkerCache(
    "api_callers", CALLER_TTL
)
_access: worker_cache.WorkerCache[tuple[int, int], Access] = worker_cache.WorkerCache(
    "api_access", ACCESS_TTL
)


def cached_caller(raw_key: str) -> ApiCaller | None:
    return _callers.get(security.token_hash(raw_key))


def load_caller(raw_key: str | None) -> ApiCaller:
    """`api_keys.authenticate` (or, for a workspace token, `workspace_tokens.authenticate`)
    in its own unit of work; keeps a caller it accepts, a token's no longer than it lives."""
    token = worker_cache.token()
    with unit_of_work() as session:
        caller = workspace_tokens.authenticate_bearer(session, raw_key)
    assert raw_key  # authenticate refuses a missing key
    ttl = None
    if caller.expires_at is not None:
        ttl = max(0.0, (caller.expires_at - utcnow()).total_seconds())
    _callers.put(
        security.token_hash(raw_key),
        caller,
        tags=[("access_user", caller.user.id)],
        token=token,
        ttl=ttl,
    )
    return caller


def cached_access(caller: ApiCaller, organization_id: int) -> Access | None:
    return _access.get((caller.user.id, organization_id))


def load_access(caller: ApiCaller, organization_id: int) -> Access:
    """Membership (NotFound for others, as everywhere) and the Security rule, read once."""
    token = worker_cache.token()
    with unit_of_work() as session:
        _, membership = require(session, caller.user, organization_id, Permission.VIEW)
        access = Access(
            role=Role(membership.role),
            rule=org_security.access_rule(
                session, user=caller.user, organization_id=organization_id
            ),
        )
    _access.put(
        (caller.user.id, organization_id),
        access,
        tags=[
            ("access", organization_id),
            ("usage", organization_id),
            ("access_user", caller.user.id),
        ],
        token=token,
    )
    return access
