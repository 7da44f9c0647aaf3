"""The JSON of hot REST reads, kept per worker (`adapters/worker_cache.py`).

Scripts poll the organization's details (`GET /api/organizations/{id}`), the links list
(`GET /api/links`) and a link's stats (`GET /api/links/{id}/stats`); between two changes
every poll answers the same bytes. Each answer is kept per caller (user) and request, tagged
with what makes it wrong:

- `db.ORG_ROWS` / `db.PERSONAL_ROWS` of its workspace: any row of the organization (or of
  the user's Personal Workspace) written in a unit of work, by whatever service: profile,
  settings, links, projects, domains, members, subscriptions, organization keys' scopes…;
  `db.BULK_ROWS`: a bulk UPDATE/DELETE, which names no rows;
- `usage`, `access`, `access_user`: as the usage route's caches (plans, roles, Security
  settings, revoked keys and workspace tokens);
- for stats, `analytics` / `analytics_user`: the click flush and conversions.

Only answers are kept, never refusals; and a kept answer is served only after the same
checks as the database path (key, rate limit, membership with its Security rule, from the
`api_callers` caches), so permissions, Security settings, key scopes and workspace tokens
hold on every request.
"""

from collections.abc import Hashable
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse

from orgportal import db
from orgportal.adapters import worker_cache

TTL = 60.0  # seconds; the last resort for a change written outside the services

# (user, organization) → JSON
organizations: worker_cache.WorkerCache[tuple[int, int], bytes] = worker_cache.WorkerCache(
    "rest_organization", TTL
)
# (user, key's workspace, token?, limit, offset, project) → (workspace listed, JSON)
links: worker_cache.WorkerCache[Hashable, tuple[int | None, bytes]] = worker_cache.WorkerCache(
    "rest_links", TTL
)
# (user, link, first day, last day) → (the link's organization, JSON)
link_stats: worker_cache.WorkerCache[Hashable, tuple[int | None, bytes]] = worker_cache.WorkerCache(
    "rest_link_stats", TTL
)


def workspace_tags(organization_id: int | None, user_id: int) -> list[worker_cache.Change]:
    """What changes a read of this workspace (the organization, or the user's own) for
    this user."""
    tags: list[worker_cache.Change] = [("access_user", user_id), (db.BULK_ROWS, 1)]
    if organization_id is None:
        return [*tags, (db.PERSONAL_ROWS, user_id), ("personal_usage", user_id)]
    return [
        *tags,
        (db.ORG_ROWS, organization_id),
        ("usage", organization_id),
        ("access", organization_id),
    ]


def json_body(model: BaseModel) -> bytes:
    """The bytes FastAPI sends for `model` as a route's response model (by alias)."""
    content: Any = model.model_dump(mode="json", by_alias=True)
    return JSONResponse(content).body
