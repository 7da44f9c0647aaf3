"""405 answers that name every method the path accepts (RFC 9110 §15.5.6).

Starlette names only the methods of the first route that matched the path, and one path
often has several routes (GET and POST of a collection); some 405s had no Allow at all.
"""

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.routing import Match

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def name_allowed_methods(api: FastAPI) -> None:
    api.add_exception_handler(HTTPException, _with_every_allowed_method)


async def _with_every_allowed_method(request: Request, exc: HTTPException):
    if exc.status_code == 405:
        allowed = [
            method
            for method in METHODS
            if any(
                route.matches({**request.scope, "method": method})[0] is Match.FULL
                for route in request.app.router.routes
            )
        ]
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)
