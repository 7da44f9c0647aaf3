"""What every SCIM route shares (RFC 7644): the organization's bearer token, a rate limit
per token, a capped body, `application/scim+json` in and out, and every refusal as a SCIM
error (`urn:ietf:params:scim:api:messages:2.0:Error` with status, scimType and detail).

`ScimRoute` turns whatever a route raised into that error: a service's DomainError (its
status, with the scimType RFC 7644 §3.12 gives the case), scim2-models' own exceptions and
validation errors, the body cap and the rate limit. The app-wide handlers that the other
routers rely on stay untouched, as for the REST API (`api/rest/deps.py`).
"""

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import ValidationError
from scim2_models import Error, ResponseParameters, SCIMException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from orgportal.adapters import logs, rate_limit
from orgportal.api.rest.deps import BodyTooLarge, RateLimited
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import scim_tokens
from orgportal.services.client_address import calling_from, client_address
from orgportal.services.errors import (
    Conflict,
    DomainError,
    NoSeatsAvailable,
    NotAuthenticated,
    ValidationFailed,
)

MEDIA_TYPE = "application/scim+json"
# Per token; the REST API's limit and window (SPEC §8) hold here too.
limiter = rate_limit.limiter(
    "scim", lambda: settings.api_rate_limit, lambda: settings.api_rate_window_seconds
)


class ScimError(Exception):
    """A protocol-level refusal the services know nothing of (a filter we do not support)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def scim_response(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), default=str),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers or None,
    )


def error_response(status: int, detail: str, scim_type: str | None = None, **headers: str):
    error = Error(status=status, scim_type=scim_type, detail=detail)
    return scim_response(error.model_dump(), status, **headers)


def _scim_type(exc: DomainError) -> str | None:
    if isinstance(exc, NoSeatsAvailable):
        return None  # not a uniqueness clash: the detail names the seat limit
    if isinstance(exc, Conflict):
        return "uniqueness"
    if isinstance(exc, ValidationFailed):
        return "invalidValue"
    return None


def from_domain_error(exc: DomainError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    status = 400 if isinstance(exc, ValidationFailed) else exc.status
    if status == 402:  # a subscription is missing: RFC 7644 §3.12 has 403 for "not allowed"
        status = 403
    return error_response(status, exc.message, _scim_type(exc), **headers)


def from_validation_error(exc: ValidationError) -> Response:
    """The first problem pydantic found, mapped by scim2-models to RFC 7644's keywords."""
    errors = exc.errors()
    if not errors:
        return error_response(400, "Invalid request.", "invalidValue")
    error = Error.from_validation_error(errors[0])
    where = ".".join(str(part) for part in errors[0].get("loc", ()))
    detail = f"{where}: {error.detail}" if where else (error.detail or "Invalid request.")
    return error_response(int(error.status or 400), detail, error.scim_type or "invalidValue")


def _address(request: Request) -> str:
    return client_address(
        request.client.host if request.client else "",
        ",".join(request.headers.getlist("x-forwarded-for")) or None,
    )


async def _read_capped(request: Request, limit: int) -> None:
    """Read the body once, refusing it as soon as it passes `limit` bytes (declared or not)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    request._body = b"".join(chunks)  # Starlette's cache: read_json parses from here


class ScimRoute(APIRoute):
    """A route of the SCIM API: capped body, and every refusal a SCIM error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if request.method in ("POST", "PUT", "PATCH"):
                    await _read_capped(request, settings.api_max_body_bytes)
                with calling_from(_address(request), api=True):
                    return await handler(request)
            except BodyTooLarge as exc:
                return error_response(413, exc.message)
            except DomainError as exc:
                return from_domain_error(exc)
            except ScimError as exc:
                return error_response(exc.status, exc.detail, exc.scim_type)
            except SCIMException as exc:
                error = exc.to_error()
                return error_response(int(error.status or 400), exc.detail, error.scim_type)
            except ValidationError as exc:
                return from_validation_error(exc)

        return guarded


def scim_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag], route_class=ScimRoute, include_in_schema=False)


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _authenticate(raw: str | None) -> int:
    with unit_of_work() as session:
        return scim_tokens.authenticate(session, raw)


async def organization_of(request: Request) -> int:
    """The organization whose token the request carries (checked against the database on
    every call, so a revoked token or a lost plan stops it at once), then rate-limited."""
    organization_id = await run_in_threadpool(_authenticate, _bearer(request))
    logs.bind(organization_id=organization_id)
    wait = await limiter.ahit(f"org:{organization_id}")
    if wait:
        raise RateLimited(wait)
    return organization_id


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a SCIM `invalidSyntax` error."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise ScimError(400, "The request body is not valid JSON.", "invalidSyntax") from exc
    if not isinstance(body, dict):
        raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
    return body


def response_parameters(request: Request) -> ResponseParameters | None:
    """`attributes` / `excludedAttributes` from the query (RFC 7644 §3.9)."""
    attributes = request.query_params.get("attributes")
    excluded = request.query_params.get("excludedAttributes")
    if not attributes and not excluded:
        return None
    return ResponseParameters.model_validate(
        {
            key: value
            for key, value in (("attributes", attributes), ("excludedAttributes", excluded))
            if value
        }
    )


def paging(request: Request, max_results: int) -> tuple[int, int]:
    """(startIndex, count) as RFC 7644 §3.4.2.4 says: a startIndex below 1 is 1, a negative
    count is 0, and no page is larger than the service's maxResults."""
    try:
        start = int(request.query_params.get("startIndex", "1"))
        count = int(request.query_params.get("count", str(max_results)))
    except ValueError as exc:
        raise ScimError(400, "startIndex and count must be integers.", "invalidValue") from exc
    return max(1, start), max(0, min(count, max_results))


EQ_FILTER = re.compile(r'^\s*([A-Za-z][\w.:$-]*)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)


def eq_filter(request: Request, supported: dict[str, str]) -> tuple[str, str] | None:
    """The one filter form provisioning needs (RFC 7644 §3.4.2.2): `<attribute> eq "<value>"`
    on one of `supported` (SCIM name, any case → key). Anything else is `invalidFilter`,
    which says what is supported."""
    raw = request.query_params.get("filter")
    if raw is None:
        return None
    match = EQ_FILTER.match(raw)
    names = {name.lower(): key for name, key in supported.items()}
    if match is None or match.group(1).lower() not in names:
        said = ", ".join(f'{name} eq "…"' for name in supported)
        raise ScimError(400, f"Unsupported filter {raw!r}: this service filters by {said}.",
                        "invalidFilter")  # fmt: skip
    return names[match.group(1).lower()], json.loads(match.group(2))
