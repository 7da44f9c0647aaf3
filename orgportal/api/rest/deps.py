"""What every REST route shares: API-key auth, per-key rate limit, body cap, one error shape.

Errors always leave as JSON `{"detail": "…"}` (plus `errors` per field for 422), whatever
raised them: a service's DomainError, FastAPI's own request validation, the size cap or
the rate limit. `RestRoute` does that per route, so the app-wide handlers that the Reflex
mount and the other routers rely on stay untouched.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from orgportal import db
from orgportal.adapters import logs, rate_limit, worker_cache
from orgportal.adapters.billing import BillingUnavailable
from orgportal.api.rest.direct import DIRECT
from orgportal.api.rest.schemas import ErrorOut
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import api_callers, org_security, public_ids, workspace_tokens
from orgportal.services.api_keys import ApiCaller
from orgportal.services.client_address import calling_from, of_scope
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; larger ones cannot exist


class RateLimited(DomainError):
    status = 429

    def __init__(self, retry_after: float):
        seconds = int(retry_after) + 1
        super().__init__(f"Too many requests for this API key. Try again in {seconds} seconds.")
        self.retry_after = seconds


class BodyTooLarge(DomainError):
    status = 413

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit:,} bytes.")


# Per API key; limit and window come from settings on every request.
limiter = rate_limit.limiter(
    "api", lambda: settings.api_rate_limit, lambda: settings.api_rate_window_seconds
)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key created on the account page (`Authorization: Bearer op_…`), or "
    "a workspace token from `POST /api/organizations/{organization_id}/switch` (`opw_…`).",
)


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiCaller:
    """The key's user, checked against the database on every call, then rate-limited, then
    held to the Security settings of the organization the call is about (SPEC §13).

    A plain `def`: FastAPI runs it in its threadpool, so the database and Redis calls never
    block the event loop."""
    with unit_of_work() as session:
        caller = workspace_tokens.authenticate_bearer(
            session, credentials.credentials if credentials else None
        )
    in_path = _path_organization(request)
    organization_id = _organization_of(
        request, caller, in_path and public_ids.load_organization_pk(in_path)
    )
    logs.bind(user_id=caller.user.id, organization_id=organization_id)
    wait = limiter.hit(caller.rate_limit_key)
    if wait:
        raise RateLimited(wait)
    if organization_id is not None:
        with unit_of_work() as session:
            org_security.check_access(
                session, user=caller.user, organization_id=organization_id,
                address=of_scope(request.scope), api=True,
            )  # fmt: skip
    return caller


async def cached_caller(request: Request) -> ApiCaller:
    """`current_caller` with the same checks in the same order, from this worker's caches:
    on a hit no database is touched and nothing leaves the event loop but, now and then,
    the rate limiter's Redis round trip. A miss, and every refusal, takes the database
    path in the threadpool. Hot routes call it directly on plain requests (`direct.py`).
    For routes that read about an organization the caller must belong to; they
    declare `openapi_extra=API_KEY_SECURITY`, as the key is read here, not by a dependency
    (each level of dependencies costs a polled route several microseconds)."""
    caller = await _authenticated(request)
    in_path = _path_organization(request)
    path_pk = in_path and (
        public_ids.cached_organization_pk(in_path)
        or await run_in_threadpool(public_ids.load_organization_pk, in_path)
    )
    organization_id = _organization_of(request, caller, path_pk)
    await _limited(caller, organization_id)
    if organization_id is not None:
        access = api_callers.cached_access(caller, organization_id) or await run_in_threadpool(
            api_callers.load_access, caller, organization_id
        )
        if access.rule is not None:
            org_security.enforce(
                access.rule, user=caller.user, address=of_scope(request.scope), api=True
            )
    return caller


async def limited_caller(request: Request) -> ApiCaller:
    """The key's caller, rate-limited, from this worker's caches; the Security settings of
    its workspace are the route's to check, with `workspace_checked` (or, on a miss,
    `check_workspace` in the threadpool), for routes about the caller's workspace whose
    caller may have left it (`api_keys.active_workspace` then falls back)."""
    caller = await _authenticated(request)
    await _limited(caller, caller.active_org_id)
    return caller


def workspace_checked(request: Request, caller: ApiCaller) -> bool:
    """What `current_caller` checks of the caller's workspace, from this worker's cache:
    True when done (its Security rule enforced), False when the cache cannot tell (run
    `check_workspace` then, or the route's whole database path)."""
    if caller.active_org_id is None:
        return True
    access = api_callers.cached_access(caller, caller.active_org_id)
    if access is None:
        return False
    if access.rule is not None:
        org_security.enforce(
            access.rule, user=caller.user, address=of_scope(request.scope), api=True
        )
    return True


def check_workspace(session: Session, request: Request, caller: ApiCaller) -> None:
    """`current_caller`'s Security check of the caller's workspace, on the database."""
    if caller.active_org_id is not None:
        org_security.check_access(
            session, user=caller.user, organization_id=caller.active_org_id,
            address=of_scope(request.scope), api=True,
        )  # fmt: skip


async def _authenticated(request: Request) -> ApiCaller:
    worker_cache.ensure_listening(db.bus)
    raw = bearer_token(request)
    return (raw and api_callers.cached_caller(raw)) or await run_in_threadpool(
        api_callers.load_caller, raw
    )


def bearer_token(request: Request) -> str | None:
    """What `bearer` (HTTPBearer, auto_error=False) reads of the request, without building
    its pydantic model (nor Starlette's Headers): the credentials of the first
    `Authorization: Bearer …` header, else None."""
    authorization = _header(request, b"authorization")
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


async def _limited(caller: ApiCaller, organization_id: int | None) -> None:
    logs.bind(user_id=caller.user.id, organization_id=organization_id)
    wait = await limiter.ahit(caller.rate_limit_key)
    if wait:
        raise RateLimited(wait)


def client_of(request: Request) -> str:
    """The client's address, as Security settings check it (X-Forwarded-For understood)."""
    return of_scope(request.scope)


def _header(request: Request, name: bytes) -> str | None:
    """The first value of the header `name` (lowercase, as ASGI servers give names), as
    `request.headers.get` would answer it."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _path_organization(request: Request) -> str | None:
    """The public id in the path (not validated yet: the route refuses a malformed one)."""
    raw = request.path_params.get("organization_id")
    return str(raw) if raw else None


def _organization_of(request: Request, caller: ApiCaller, path_pk: int | None) -> int | None:
    """The organization a call is about: the one in its path (`path_pk`, its public id
    resolved; None when unknown, which the route answers with 404), else (links, projects…)
    the caller's workspace (the key's, or its workspace token's); listing, creating and the
    Personal switch are about none."""
    if "organization_id" in request.path_params:
        return path_pk
    if request.url.path.startswith("/api/organizations"):
        return None
    return caller.active_org_id


Caller = Annotated[ApiCaller, Depends(current_caller)]
CachedCaller = Annotated[ApiCaller, Depends(cached_caller)]
LimitedCaller = Annotated[ApiCaller, Depends(limited_caller)]
# What `Depends(bearer)` adds to a route's OpenAPI, for routes using CachedCaller.
API_KEY_SECURITY: dict[str, Any] = {"security": [{bearer.scheme_name: []}]}
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1–100).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]


def error_response(status: int, detail: str, errors: dict[str, str] | None = None, **headers):
    body = ErrorOut(detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers or None)


def from_domain_error(exc: DomainError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    errors = exc.errors if isinstance(exc, ValidationFailed) else None
    return error_response(exc.status, exc.message, errors, **headers)


# pydantic's wording where it is obscure (a regular expression is no message for a person).
READABLE = {
    "string_pattern_mismatch": "This value has a form the API does not accept: see the "
    "field's description in /api/openapi.json (one line, no control characters; web "
    "addresses as https://example.com/…).",
    "string_too_short": "Use at least {min_length} characters.",
    "string_too_long": "Use at most {max_length} characters.",
    "extra_forbidden": "This field is not part of the request: leave it out.",
}


def from_validation_error(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's list of errors as one readable `detail` plus `errors` by location."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"] and len(loc) > 1:  # `name`, as services name their fields
            loc = loc[1:]
        where = ".".join(str(part) for part in loc) or "request"
        message = READABLE.get(error.get("type", ""), str(error.get("msg", "")))
        errors[where] = "; ".join(
            filter(None, (errors.get(where), message.format(**error.get("ctx", {}))))
        )
    detail = "; ".join(f"{where}: {msg}" for where, msg in errors.items()) or "Invalid request."
    return error_response(422, detail, errors)


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
    request._body = b"".join(chunks)  # Starlette's cache: FastAPI parses from here


FORM = "application/x-www-form-urlencoded"


def _json_sent_as_form(request: Request) -> None:
    """`curl -d '{"name": …}'` without `-H "Content-Type: application/json"` (as the
    examples of seed 003 do) sends JSON labelled as a form: read it as the JSON it is.
    A body that is not a JSON object stays a form, which every route refuses (422)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return
    try:
        is_object = isinstance(json.loads(request._body), dict)
    except ValueError:
        return
    if is_object:
        request.scope["headers"] = [
            (name, b"application/json" if name == b"content-type" else value)
            for name, value in request.scope["headers"]
        ]
        del request._headers  # Starlette re-reads them from the scope


class RestRoute(APIRoute):
    """A route of the REST API: capped body, and every refusal in the one error shape."""

    # A hot read's answer without FastAPI's routing (`hot_reads.py`): the same checks and
    # refusals as `guarded`, None when the request is not plain (nothing checked yet).
    direct_answer: Callable[[Request], Coroutine[Any, Any, Response | None]] | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        direct = getattr(self.endpoint, DIRECT, None)  # `direct.called_directly`

        async def guarded(request: Request) -> Response:
            return await _answered(request, direct, handler)

        if direct is not None:

            async def direct_answer(request: Request) -> Response | None:
                return await _answered(request, direct, None)

            self.direct_answer = direct_answer
        return guarded


async def _answered(
    request: Request,
    direct: Callable[[Request], Coroutine[Any, Any, Response | None]] | None,
    handler: Callable[[Request], Coroutine[Any, Any, Response]] | None,
) -> Response | None:
    """The route's answer: its direct answer when the request is plain, else FastAPI's
    `handler`'s (None without one), every refusal in the API's error shape."""
    try:
        if request.method in ("POST", "PUT", "PATCH"):
            await _read_capped(request, settings.api_max_body_bytes)
            _json_sent_as_form(request)
        # the address every service of this call checks Security settings at
        with calling_from(of_scope(request.scope), api=True):
            if direct is not None and (answer := await direct(request)) is not None:
                return answer
            return None if handler is None else await handler(request)
    except DomainError as exc:
        return from_domain_error(exc)
    except RequestValidationError as exc:
        return from_validation_error(exc)
    except BillingUnavailable:
        return error_response(503, "The billing provider is unavailable. Try again.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "Bad request",
        401: "Missing, unknown or revoked API key",
        403: "Your role does not allow this, or the organization's Security settings refuse "
        "the call (two-factor sign-in required of the key's user; address not on its IP "
        "allowlist)",
        404: "Not found (also for other organizations' objects)",
        405: "This path does not take this method; Allow names those it takes",
        409: "Conflicts with the current state (duplicate, limit reached)",
        413: "Request body too large",
        422: "Invalid input",
        429: "Rate limit exceeded; see Retry-After",
        503: "Billing provider unavailable",
    }.items()
}


ERROR_RESPONSES[405]["headers"] = {
    "Allow": {"description": "The methods this path takes.", "schema": {"type": "string"}}
}
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
}
ERROR_RESPONSES[401]["headers"] = {
    "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}}
}


def rest_router(prefix: str, tag: str) -> APIRouter:
    """A router whose routes are RestRoutes (include_router keeps each route's class)."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=RestRoute, responses=ERROR_RESPONSES)
