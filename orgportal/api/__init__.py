"""HTTP routes mounted beside the Reflex app (same port) through `api_transformer`."""

from fastapi import FastAPI

from orgportal.api import auth, content, logos, stripe_webhook


def build_api() -> FastAPI:
    api = FastAPI(title="orgportal API", docs_url="/api/docs", openapi_url="/api/openapi.json")
    api.include_router(auth.router)
    api.include_router(logos.router)
    api.include_router(stripe_webhook.router)
    api.include_router(content.router)
    return api
