"""405 answers that name every method the path accepts (RFC 9110 §15.5.6), and a JSON 404 or
405 for every `/api/…` path the API does not serve.

Starlette names only the methods of the first route that matched the path, and one path
often has several routes (GET and POST of a collection); some 405s had no Allow at all. An
`/api/…` path no route matched used to fall through to the web app's static files (a
plain-text 405 for anything but GET): the API's own answer is JSON, as documented.
"""

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def name_allowed_methods(api: FastAPI, *, catch_all: str = "") -> None:
    """The 405 handler; with `catch_all` (e.g. "/api"), a last route under that prefix
    answering 405 or 404 in JSON for whatever no other route serves."""
    api.add_exception_handler(HTTPException, _with_every_allowed_method)
    if catch_all:

        async def unserved(request: Request, rest: str) -> JSONResponse:
            allowed = _allowed(request, besides=unserved)
            if allowed:
                return JSONResponse(
                    {"detail": "Method Not Allowed"},
                    status_code=405,
                    headers={"Allow": ", ".join(allowed)},
                )
            return JSONResponse({"detail": "Not found."}, status_code=404)

        api.add_api_route(
            f"{catch_all}/{{rest:path}}",
            unserved,
            methods=list(METHODS),
            include_in_schema=False,
        )


def _allowed(request: Request, besides=None) -> list[str]:
    """The methods some route serves this path with (other than the `besides` endpoint)."""
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
            if besides is None or getattr(route, "endpoint", None) is not besides
        )
    ]


async def _with_every_allowed_method(request: Request, exc: HTTPException):
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(_allowed(request))}
    return await http_exception_handler(request, exc)
