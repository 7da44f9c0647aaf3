"""HTTP routes mounted beside the Reflex app (same port) through `api_transformer`: the
REST API (`api/rest/`), sign-in tickets, file downloads and uploads, logos, the Stripe
webhook, public short-link pages, SCIM provisioning (`api/scim/`) and the operating probes.

May import: `services` (every rule and permission check is there), `adapters`, `models`,
`db` and `config`; never states, views or pages. (`uploads.py`, the gate in front of
Reflex's own upload route, is the one module here that touches Reflex.)
"""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from orgportal.api import auth, content, logos, public_tickets, sso, stripe_webhook
from orgportal.api.method_not_allowed import name_allowed_methods
from orgportal.api.rest import PREFIX as REST_PREFIX
from orgportal.api.rest import routers as rest_routers
from orgportal.api.rest.hot_reads import HotReads
from orgportal.api.scim import routers as scim_routers
from orgportal.db import database_unavailable

log = logging.getLogger(__name__)


def build_api() -> FastAPI:
    api = FastAPI(title="orgportal API", docs_url="/api/docs", openapi_url="/api/openapi.json")
    # The API-key REST API (SPEC §8) first: routes are tried in order, and its usage route is
    # polled. No path of it is also one of the routers after it.
    for router in rest_routers:
        api.include_router(router, prefix=REST_PREFIX)
    api.include_router(auth.router)
    api.include_router(sso.router)  # single sign-on (SPEC §16)
    api.include_router(logos.router)
    api.include_router(stripe_webhook.router)
    api.include_router(public_tickets.router)
    api.include_router(content.router)
    for router in scim_routers:  # SPEC §16: /scim/v2/…, the last answering what none serves
        api.include_router(router)
    name_allowed_methods(api, catch_all="/api")  # last: only what nothing else serves
    api.add_exception_handler(DBAPIError, _database_error)
    api.add_middleware(HotReads, api=api)  # plain polls of the hot reads skip the router
    return api


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database went away during the request (a restart, a failover: SPEC §18): its
    use case was rolled back as a whole, so the caller is told to try again, in the API's
    error shape, instead of a bare 500. Any other database error stays a 500."""
    if not database_unavailable(exc):
        raise exc
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)  # fmt: skip
    return content.database_unavailable_response()
