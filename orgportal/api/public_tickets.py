"""Public ticket intake for the website plugin: `POST /api/public/organizations/{slug}/tickets`.

Only pages served from an authorized domain (or a subdomain) may submit, so CORS here is
decided per request by the organization's domain list: allowed origins get their origin
echoed, everything else gets a 403 without any CORS header and nothing is stored.

Reflex wraps the app, and every API mounted through `api_transformer`, in a CORS middleware
that answers every preflight itself. The gateway (`api/gateway.py`) therefore routes
`/api/public/` past that middleware, straight to `public_api()`, holding only these routes.
"""

import json
import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from orgportal.adapters.rate_limit import limiter
from orgportal.api.method_not_allowed import name_allowed_methods
from orgportal.db import unit_of_work
from orgportal.models import Organization
from orgportal.services import domains, tickets
from orgportal.services.client_address import client_address
from orgportal.services.errors import DomainError, ValidationFailed

PREFIX = "/api/public"
MAX_BODY_BYTES = 16 * 1024
router = APIRouter(prefix=PREFIX, tags=["public"])
log = logging.getLogger(__name__)


# Module-level so tests (and operators) can tune them: `per_ip.limit = 2`.
per_ip = limiter("public_ip", limit=10, window=60)
per_organization = limiter("public_org", limit=60, window=60)


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _authorize(slug: str, origin: str | None) -> Organization:
    with unit_of_work() as session:
        return domains.authorize_origin(session, slug=slug, origin=origin)


def _refusal(exc: DomainError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers={"Vary": "Origin"})


@router.options("/organizations/{slug}/tickets", include_in_schema=False)
async def preflight(slug: str, request: Request) -> Response:
    origin = request.headers.get("origin")
    try:
        await run_in_threadpool(_authorize, slug, origin)
    except DomainError as exc:
        return _refusal(exc)
    return Response(
        status_code=204,
        headers={
            **_cors(origin or ""),
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


@router.post(
    "/organizations/{slug}/tickets",
    status_code=201,
    summary="Submit a ticket from an authorized website (CORS for authorized domains only)",
    responses={403: {}, 404: {}, 413: {}, 422: {}, 429: {}},
)
async def submit_ticket(slug: str, request: Request) -> Response:
    """JSON `{name, email, subject, message}` → 201 `{"number": "TKT-001"}`."""
    origin = request.headers.get("origin")
    try:
        organization = await run_in_threadpool(_authorize, slug, origin)
    except DomainError as exc:
        return _refusal(exc)
    cors = _cors(origin or "")

    def reply(status: int, body: dict, **extra: str) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers={**cors, **extra})

    client = client_address(
        request.client.host if request.client else "",
        ", ".join(request.headers.getlist("x-forwarded-for")),
    )
    wait = await run_in_threadpool(_hit_limits, client, organization.id)
    if wait:
        detail = "Too many tickets submitted. Please try again in a minute."
        return reply(429, {"detail": detail}, **{"Retry-After": str(int(wait) + 1)})
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return reply(413, {"detail": f"The request is larger than {MAX_BODY_BYTES} bytes."})
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        data = None
    try:
        number = await run_in_threadpool(_create, organization, data)
    except ValidationFailed as exc:
        return reply(422, {"detail": exc.message, "errors": exc.errors})
    return reply(201, {"number": number})


def _hit_limits(client: str, organization_id: int | None) -> float:
    """Per address, then per organization; in the threadpool, as Redis may answer them."""
    return per_ip.hit(client) or per_organization.hit(str(organization_id))


def _create(organization: Organization, data: object) -> str:
    with unit_of_work() as session:
        return tickets.submit_public_ticket(session, organization=organization, data=data).number


def public_api() -> FastAPI:
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api.include_router(router)
    name_allowed_methods(api)
    return api
