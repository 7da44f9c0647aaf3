"""HTTP routes mounted beside the Reflex app (same port) through `api_transformer`."""

from fastapi import FastAPI

from orgportal.api import auth, content, logos, public_tickets, stripe_webhook
from orgportal.api.method_not_allowed import name_allowed_methods
from orgportal.api.rest import PREFIX as REST_PREFIX
from orgportal.api.rest import routers as rest_routers


def build_api() -> FastAPI:
    api = FastAPI(title="orgportal API", docs_url="/api/docs", openapi_url="/api/openapi.json")
    # The API-key REST API (SPEC §8) first: routes are tried in order, and its usage route is
    # polled (issue 16). No path of it is also one of the routers after it.
    for router in rest_routers:
        api.include_router(router, prefix=REST_PREFIX)
    api.include_router(auth.router)
    api.include_router(logos.router)
    api.include_router(stripe_webhook.router)
    api.include_router(public_tickets.router)
    api.include_router(content.router)
    name_allowed_methods(api, catch_all="/api")  # last: only what nothing else serves
    return api
