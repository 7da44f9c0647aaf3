"""Operating the app (SPEC §18): probes, metrics, and one log line per HTTP request.

The gateway hands every HTTP request to `observe`, which gives it a request id (the
incoming `X-Request-ID` when well-formed, else a new one, returned in the response's
`X-Request-ID`), counts it in the metrics by route template, and logs one JSON line for it
when it is answered (`adapters/logs.py`). The gateway serves three paths with `OWN_PATHS`,
on every host (a probe may name the machine's address, not the public name), before any
origin rule and without ever setting a cookie:

- `GET /healthz`: the process is alive, 200 `{"status": "ok"}`;
- `GET /readyz`: the database, Redis and object storage answer (`adapters/health.py`),
  200 `{"status": "ready", "checks": {...}}` or 503 `{"status": "not ready", ...}`;
- `GET /metrics`: Prometheus text (`adapters/metrics.py`), only when configured:
  METRICS_TOKEN (then `Authorization: Bearer <token>` is required, else 401) and/or
  METRICS_ALLOWED_ADDRESSES (the client's address must be in it, else 403). Neither: 404.
"""

import hmac
import logging
import re
import time
from functools import cache
from ipaddress import ip_address

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgportal import routes
from orgportal.adapters import health, logs, metrics
from orgportal.config import settings
from orgportal.services.client_address import of_scope
from orgportal.services.links import SLUG_PATTERN

log = logging.getLogger("orgportal.http")
_REQUEST_ID_KEY = logs.REQUEST_ID_HEADER.encode()
HEALTH, READY, METRICS = "/healthz", "/readyz", "/metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_STORE = {"cache-control": "no-store"}
# scope key: the request's client address, once the gateway has worked it out (its log line
# reads it there instead of again)
CLIENT_ADDRESS = "orgportal.client_address"
# Paths some part of the app (Reflex itself, FastAPI's docs) answers without a route of ours.
KNOWN_PATHS = frozenset(
    {"/api/docs", "/api/openapi.json", "/ping", "/_health", "/favicon.ico", "/robots.txt",
     "/sitemap.xml", HEALTH, READY, METRICS}
)  # fmt: skip


# --- the probes and the metrics ----------------------------------------------------------------


def _only_get(scope: Scope) -> Response | None:
    if scope["method"] in ("GET", "HEAD"):
        return None
    return JSONResponse(
        {"detail": "Method not allowed."}, status_code=405, headers={"allow": "GET, HEAD"}
    )


async def healthz(scope: Scope, receive: Receive, send: Send) -> None:
    response = _only_get(scope) or JSONResponse({"status": "ok"}, headers=NO_STORE)
    await response(scope, receive, send)


async def readyz(scope: Scope, receive: Receive, send: Send) -> None:
    response = _only_get(scope)
    if response is None:
        checks = await health.readiness()
        ready = all(state in (health.OK, health.NOT_CONFIGURED) for state in checks.values())
        response = JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
            headers=NO_STORE,
        )
    await response(scope, receive, send)


def metrics_refusal(scope: Scope) -> Response | None:
    """Why this request may not read the metrics (a response), or None when it may."""
    token, networks = settings.metrics_token, settings.metrics_allowed_addresses
    if not token and not networks:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if networks:
        address = of_scope(scope)
        try:
            allowed = any(ip_address(address) in network for network in networks)
        except ValueError:
            allowed = False
        if not allowed:
            return JSONResponse({"detail": "Forbidden."}, status_code=403)
    if token:
        given = Headers(scope=scope).get("authorization", "")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode(), token.encode()
        ):
            return JSONResponse(
                {"detail": "A valid metrics token is required."},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
    return None


async def metrics_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    response = metrics_refusal(scope) or _only_get(scope)
    if response is None:
        body = await run_in_threadpool(metrics.render)  # the outbox is read from the database
        response = Response(body, media_type=metrics.CONTENT_TYPE, headers=NO_STORE)
    await response(scope, receive, send)


OWN_PATHS = {HEALTH: healthz, READY: readyz, METRICS: metrics_endpoint}


# --- every HTTP request ------------------------------------------------------------------------


async def observe(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Serve one HTTP request with `app` (the gateway's routing, or one of `OWN_PATHS`),
    with a request id, metrics and its log line."""
    started = time.perf_counter()
    incoming = None
    for key, value in scope["headers"]:  # its first X-Request-ID, as Headers.get gives it
        if key == _REQUEST_ID_KEY:
            incoming = value.decode("latin-1")
            break
    request_id = logs.request_id(incoming)
    status = 500  # unless a response starts: an error escaped before one did
    header = (_REQUEST_ID_KEY, request_id.encode())

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != header[0]]
            message = {**message, "headers": [*kept, header]}
        await send(message)

    with logs.request_context(request_id=request_id) as fields:
        try:
            await app(scope, receive, send_with_id)
        finally:
            own = scope["path"] in OWN_PATHS
            _record(scope, status, time.perf_counter() - started, fields, own)


def _record(scope: Scope, status: int, seconds: float, fields: dict, own: bool) -> None:
    route = scope["path"] if own else route_template(scope)
    method = scope["method"] if scope["method"] in METHODS else "OTHER"
    metrics.http_request(route, method, metrics.status_class(status), seconds)
    level = logging.DEBUG if own else logging.ERROR if status >= 500 else logging.INFO
    if not log.isEnabledFor(level):
        return
    record_fields = {
        "kind": "http",
        "method": method,
        "route": route,
        "path": logs.loggable_path(scope["path"], route),
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": scope.get(CLIENT_ADDRESS) or of_scope(scope),
    }
    writer = logs.direct_writer(log)
    if writer is not None:  # the line JsonFormatter would make, without a LogRecord
        head = {
            "time": logs.timestamp(time.time()),
            "level": logging.getLevelName(level),
            "logger": log.name,
            "message": f"{method} {route} {status:d}",
        }
        writer.write_line(logs.json_line(head, fields, record_fields))
        return
    # the record made directly: `log.log` would also walk the stack for the caller's file
    # and line, which the JSON line does not carry
    record = log.makeRecord(
        log.name,
        level,
        __file__,
        0,
        "%s %s %d",
        (method, route, status),
        None,
        extra={"fields": {**fields, **record_fields}},
    )
    log.handle(record)


def route_template(scope: Scope) -> str:
    """The route a request reached, as its template (`/api/files/{file_id}`,
    `/support/invite/[token]`), from a bounded set: never the raw path."""
    path = scope.get("path", "")
    route = scope.get("route")  # the innermost route that matched (Starlette, FastAPI)
    template = getattr(route, "path_format", None)
    if template and not (isinstance(route, Mount) and template == "/{path}"):
        return _with_prefix(path, route.path_regex, template)
    if path in KNOWN_PATHS:
        return path
    trimmed = path.rstrip("/") or "/"
    for template, pattern in _page_patterns():
        if pattern.match(trimmed):
            return template
    segments = path.strip("/").split("/")
    if segments[0] == "assets" and len(segments) > 1:
        return "/assets/{path}"
    if len(segments) == 1 and SLUG_PATTERN.match(segments[0]):
        return "/{slug}"  # a root short link (`api/content.RootShortLinks`), or a custom domain's
    return "other"


def _with_prefix(path: str, regex: re.Pattern, template: str) -> str:
    """A route of a router included under a prefix knows its path without it: find the
    prefix (the part of the path before what the route matched)."""
    start = 0
    while start != -1:
        if regex.match(path[start:]):
            return path[:start] + template
        start = path.find("/", start + 1)
    return template


@cache
def _page_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    """The pages' routes (`routes.py`: `/support/invite/[token]` …) as patterns."""
    found = []
    for name, value in vars(routes).items():
        if name.isupper() and isinstance(value, str) and value.startswith("/"):
            regex = re.sub(r"\\\[[^/]+?\\\]", "[^/]+", re.escape(value.rstrip("/") or "/"))
            found.append((value, re.compile(f"^{regex}$")))
    return tuple(sorted(set(found), key=lambda item: ("[" in item[0], item[0])))
