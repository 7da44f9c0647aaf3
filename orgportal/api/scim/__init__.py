"""SCIM 2.0 provisioning (SPEC §16) under `/scim/v2/`: an organization's identity provider
adds and removes its members, authenticated by that organization's SCIM token.

May import: `services`, `adapters`, `models`, `db`, `config` and the rest of `api`; never
Reflex states, views or pages. `build_api()` includes `routers` (the last one answers a SCIM
404 or 405 for whatever the others do not serve). The rules are `services/scim.py`.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from orgportal.api.scim import discovery, groups, users
from orgportal.api.scim.protocol import ScimError, organization_of, scim_router
from orgportal.api.scim.users import PREFIX

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
unserved_router = scim_router(PREFIX, "SCIM")


@unserved_router.post("/.search")
@unserved_router.post("/Users/.search")
@unserved_router.post("/Groups/.search")
async def search(request: Request) -> Response:
    """Searching by POST (RFC 7644 §3.4.3) is optional: filters go in the GET query."""
    await organization_of(request)
    raise ScimError(501, "Search by POST is not implemented: use GET with a filter.")


@unserved_router.api_route("/{rest:path}", methods=list(METHODS))
async def unserved(request: Request, rest: str) -> Response:
    """RFC 7644 §3.12: a SCIM error for any path or method this service does not serve."""
    await organization_of(request)
    allowed = [
        method
        for method in METHODS
        for router in (discovery.router, users.router, groups.router)
        for route in router.routes
        if route.matches({**request.scope, "method": method})[0] is Match.FULL
    ]
    if allowed:
        raise ScimError(
            405, f"{request.method} is not allowed here; use {', '.join(dict.fromkeys(allowed))}."
        )
    raise ScimError(404, f"{request.url.path} is not a SCIM endpoint of this service.")


routers = [discovery.router, users.router, groups.router, unserved_router]
__all__ = ["PREFIX", "routers"]
