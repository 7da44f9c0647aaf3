"""An organization's usage read, cached per worker.

Monitoring scripts poll `GET /api/organizations/{id}/usage`; between two changes every read
returns the same numbers. So the read (`usage.read_organization_usage` plus the custom
domain count) is kept per worker and dropped when the live bus announces `("usage", id)`,
which every change of what it shows already publishes (links, files, members, invites,
plans and seats, custom domains), or `("access", id)` (the organization deleted).

One thing changes without any event: a pending invite that expires stops taking a seat.
A cached read therefore lives no longer than the next such expiry.

No permission check here: callers check access first (the REST dependency does).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from orgportal.adapters import worker_cache
from orgportal.db import unit_of_work
from orgportal.models import Invite, InviteStatus, Organization
from orgportal.models.base import utcnow
from orgportal.services import custom_domains
from orgportal.services import usage as usage_service
from orgportal.services.errors import NotFound
from orgportal.services.usage import OrganizationUsage

TTL = 60.0  # seconds; the last resort for a change made outside the services


@dataclass(frozen=True)
class UsageRead:
    usage: OrganizationUsage
    domains: int  # custom domains counted against the plan (SPEC §15)


_cache: worker_cache.WorkerCache[int, UsageRead] = worker_cache.WorkerCache("usage", TTL)


def cached(organization_id: int) -> UsageRead | None:
    """The cached read, or None (then call `read`, in a thread: it queries the database)."""
    return _cache.get(organization_id)


def read(organization_id: int) -> UsageRead:
    """Read from the database and keep the result, unless a change overtook the read."""
    token = worker_cache.token()
    with unit_of_work() as session:
        organization = session.get(Organization, organization_id)
        if organization is None:
            raise NotFound("Organization not found.")
        result = UsageRead(
            usage=usage_service.read_organization_usage(session, organization),
            domains=custom_domains.domain_count(session, organization_id),
        )
        expiry = _next_invite_expiry(session, organization_id)
    ttl = None if expiry is None else (expiry - utcnow()).total_seconds()
    _cache.put(
        organization_id,
        result,
        tags=[("usage", organization_id), ("access", organization_id)],
        token=token,
        ttl=ttl,
    )
    return result


def _next_invite_expiry(session: Session, organization_id: int) -> datetime | None:
    return session.exec(
        select(func.min(Invite.expires_at)).where(
            Invite.organization_id == organization_id,
            Invite.status == InviteStatus.PENDING,
            col(Invite.expires_at) > utcnow(),
        )
    ).one()
