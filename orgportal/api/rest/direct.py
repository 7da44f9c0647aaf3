"""Polled reads answered without FastAPI's dependency solving, when their request is plain.

Why: on a cache hit, solving a hot route's dependencies (the caller, then each parameter
through pydantic) costs more than everything else the route does. A hot route's endpoint
is marked `@called_directly(params, caller=dependency)`: `RestRoute` first reads the
route's parameters with `params(request)` (by hand, with the same bounds and patterns as
the route declares), then awaits the route's own caller dependency and the endpoint
itself: the same checks in the same order (key or workspace token, rate limit, membership
and the Security rule), the same answers. When a parameter is anything but plain (absent
where required, repeated, out of bounds, not the expected form, or unknown), `params`
returns None before any check ran, and FastAPI's handler answers the request as before: a
401 for a request without a valid key, whatever its parameters, else its 422.
"""

import re
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from orgportal.services import public_ids

Params = Callable[[Request], dict[str, Any] | None]  # the endpoint's arguments but `caller`
Dependency = Callable[[Request], Coroutine[Any, Any, Any]]
DIRECT = "rest_direct"  # the endpoint attribute `RestRoute` looks for

_WORKSPACE = re.compile(public_ids.WORKSPACE_PATTERN.removeprefix("^").removesuffix("$"))
_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}")  # plain decimals; other spellings go to pydantic
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def called_directly(params: Params, *, caller: Dependency) -> Callable[[Callable], Callable]:
    """Mark a hot route's endpoint (an `async def` taking `caller`): its plain requests are
    answered by `answer` first."""

    def mark(endpoint: Callable[..., Coroutine[Any, Any, Response]]) -> Callable:
        async def answer(request: Request) -> Response | None:
            arguments = params(request)
            if arguments is None:
                return None
            return await endpoint(**arguments, caller=await caller(request))

        setattr(endpoint, DIRECT, answer)
        return endpoint

    return mark


def organization_params(request: Request) -> dict[str, Any] | None:
    """`organization_id` (an `OrganizationPath`) when it has the public id's form."""
    organization_id = workspace_in_path(request)
    return None if organization_id is None else {"organization_id": organization_id}


def workspace_in_path(request: Request) -> str | None:
    """The path's `organization_id` when it has the public id's form, else None."""
    raw = request.path_params.get("organization_id")
    return raw if isinstance(raw, str) and _WORKSPACE.fullmatch(raw) else None


def number_in_path(request: Request, name: str, low: int, high: int) -> int | None:
    """The path's integer `name` within [low, high], else None."""
    raw = request.path_params.get(name)
    if isinstance(raw, str) and _NUMBER.fullmatch(raw):
        value = int(raw)
        return value if low <= value <= high else None
    return None


NUMBER = "number"
DAY = "day"


def query(request: Request, **expected: tuple[str, int, int] | str) -> dict[str, Any] | None:
    """The query string's values by name when each is one of `expected` (a number within
    (NUMBER, low, high), or a DAY as YYYY-MM-DD), given once; None for anything else.
    Absent names are left out (the endpoint's defaults apply)."""
    if not request.scope.get("query_string"):
        return {}
    found: dict[str, Any] = {}
    for name, raw in request.query_params.multi_items():
        kind = expected.get(name)
        if kind is None or name in found:
            return None
        if kind == DAY:
            if not _DAY.fullmatch(raw):
                return None
            found[name] = raw
        else:
            _, low, high = kind
            if not _NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
                return None
            found[name] = int(raw)
    return found
