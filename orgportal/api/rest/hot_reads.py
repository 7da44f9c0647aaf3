"""The polled reads answered in front of FastAPI's routing and middleware.

Why: a plain poll of a hot read (usage, an organization, the links list, a link's stats) is
answered from the worker's caches in a few dozen microseconds, and FastAPI's own layers
around it (exception middleware, the per-request exit stacks, matching the path against
every route of the app) cost about as much again. `HotReads` sits outermost in the API
app: a GET whose path it has seen before goes straight to its route's `direct_answer`
(`deps.RestRoute`), which runs the same checks in the same order (key, rate limit,
membership, Security rule) and gives the same answers and refusals as the route.

What it does not change:
- which route answers: the first GET of a path goes through FastAPI as any request, and
  the route its router chose (with the path's parameters) is remembered when it is a hot
  read; routes never change while the app runs, so later GETs of that path go to it;
- anything not plain: a request whose parameters are not plain is handed to FastAPI
  before any check ran (`direct.py`), as is every other method, path and route;
- errors: an exception the route does not answer itself goes to the app's exception
  handlers, as FastAPI's exception middleware would send it (else on to the server error
  middleware: a 500).
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from starlette._exception_handler import _lookup_exception_handler
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

DirectAnswer = Callable[[Request], Coroutine[Any, Any, Response | None]]
_Found = tuple[DirectAnswer, dict[str, Any], Any] | None  # answer, path params, route

MAX_PATHS = 4096  # paths remembered; past that the memory starts again


class HotReads:
    """ASGI middleware of the API app (outermost, inside Starlette's server error one)."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app, self.api = app, api
        self._paths: dict[str, _Found] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        found = self._paths.get(path)
        if found is not None and await self._answer(found, scope, receive, send):
            return
        await self.app(scope, receive, send)
        if found is None:
            self._learn(path, scope)

    def remembered(self) -> dict[str, str]:
        """The paths answered in front of the router now, each with its route's template
        (what operators and tests may look at; the lane itself keeps more)."""
        return {path: found[2].path for path, found in self._paths.items()}

    def forget(self) -> None:
        """Route every path through FastAPI again (the next GET of each is learned anew)."""
        self._paths.clear()

    def _learn(self, path: str, scope: Scope) -> None:
        """Remember the route FastAPI's router chose for this GET when it is a hot read: the
        router leaves its choice (`route`) and the path's parameters in the scope."""
        route = scope.get("route")
        answer = getattr(route, "direct_answer", None)
        if answer is None:
            return
        if len(self._paths) >= MAX_PATHS:
            self._paths.clear()
        self._paths[path] = (answer, dict(scope.get("path_params", {})), route)

    async def _answer(self, found: tuple, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer through the route's direct answer; False (nothing sent, nothing checked)
        when the request is not plain and is FastAPI's to answer."""
        answer, path_params, route = found
        scope = {**scope, "path_params": path_params, "route": route, "app": self.api}
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive, send)
        try:
            response = await answer(request)
        except Exception as exc:
            response = await self._handled(request, exc)
        if response is None:
            return False
        await response(scope, receive, send)
        return True

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """What FastAPI's exception middleware would answer for `exc` (re-raised without a
        handler, as there)."""
        handlers = self.api.exception_handlers
        handler = None
        if isinstance(exc, HTTPException):
            handler = handlers.get(exc.status_code)
        if handler is None:
            handler = _lookup_exception_handler(
                {key: value for key, value in handlers.items() if not isinstance(key, int)}, exc
            )
        if handler is None:
            raise exc
        if is_async_callable(handler):
            return await handler(request, exc)
        return await run_in_threadpool(handler, request, exc)
