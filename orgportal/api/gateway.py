"""The front door: which origin may talk to which part of the app, and security headers.

Four kinds of traffic share one port, and each gets its own origin rule:

- **Cookie-authenticated** (the pages' websocket, `/_upload`, `/api/auth/…`, `/api/files/…`
  and everything else Reflex serves): only the app's own origins (`settings.own_origins`).
  A request that names another `Origin`, or a cross-origin subresource load of a private
  route, is refused before it reaches Reflex, and Reflex's own CORS layer and Socket.IO
  server are configured with the same list (rxconfig.py).
- **REST API** (bearer API keys, never cookies): open to every origin, but never with
  credentials, so a page elsewhere can only use a key it already holds.
- **Public ticket intake** (`/api/public/…`): its own per-organization domain rule.
- **SCIM provisioning** (`/scim/v2/…`, SPEC §16): an identity provider's server with the
  organization's bearer token; no cookie, no CORS (browsers have no business there), and
  no browser nonce cookie is set on its answers.

Every HTTP response leaves with a Content-Security-Policy, `X-Frame-Options: DENY`,
`Referrer-Policy` and `X-Content-Type-Options: nosniff`, and an `X-Request-ID`; `/healthz`,
`/readyz` and `/metrics` are answered first, on any host (`api/operations.py`).
"""

import re
from functools import cache

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from orgportal import randomness
from orgportal.adapters import live, metrics
from orgportal.api import (
    build_api,
    content,
    custom_host,
    operations,
    public_tickets,
    security_headers,
    uploads,
)
from orgportal.api import rest as rest_api
from orgportal.api.scim import PREFIX as SCIM_PREFIX
from orgportal.config import settings
from orgportal.services import client_address

DOCS_PATHS = ("/api/docs", "/api/openapi.json")
# Cookie-authenticated routes whose answers are private: no other origin may even embed them.
PRIVATE_PREFIXES = ("/api/auth/", "/api/files/", "/_upload")
# The one cookie-side path another site may POST to: a SAML IdP's HTTP-POST binding to an
# organization's Assertion Consumer Service (SPEC §16). It uses no cookie; the response it
# carries is verified and bound to the browser at the same-site step that follows.
SAML_ACS = re.compile(r"^/api/sso/saml/[0-9]+/acs$")


@cache
def _rest_patterns() -> tuple[re.Pattern, ...]:
    """The REST routes' path patterns, taken from the routers themselves."""
    paths = {rest_api.PREFIX + route.path for router in rest_api.routers for route in router.routes}
    return tuple(compile_path(path)[0] for path in paths)


REST_PREFIX = rest_api.PREFIX + "/"  # every REST route's path, and the docs', starts so


def is_rest_path(path: str) -> bool:
    if not path.startswith(REST_PREFIX):  # pages and assets: no pattern to try
        return False
    return path in DOCS_PATHS or any(p.match(path) for p in _rest_patterns())


def is_scim_path(path: str) -> bool:
    return path.startswith(SCIM_PREFIX + "/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def cross_origin_refusal(scope: Scope) -> str | None:
    """Why a cookie-side request must be refused, or None when it comes from our own pages.

    Browsers send `Origin` with every websocket handshake, every POST and every CORS-mode
    fetch; `Sec-Fetch-Site` tells a no-cors subresource load (an `<img>` or `<script>` on a
    page elsewhere) from our own page's requests. Top-level navigations stay allowed: a link
    from an email to a download must work, and the page that follows it cannot read it.
    """
    origin = site = mode = None
    for key, value in scope.get("headers", ()):  # the three headers, in one pass
        if key == b"origin" and origin is None:
            origin = value.decode("latin-1")
        elif key == b"sec-fetch-site" and site is None:
            site = value.decode("latin-1")
        elif key == b"sec-fetch-mode" and mode is None:
            mode = value.decode("latin-1")
    if origin is not None and origin.rstrip("/") not in settings.own_origins:
        return f"Origin {origin} may not use this app."
    if (
        scope["type"] == "http"
        and scope["path"].startswith(PRIVATE_PREFIXES)
        and site in ("cross-site", "same-site")
        and mode != "navigate"
    ):
        return "Requests from other sites may not load this."
    return None


class Gateway:
    """Routes each request to the right origin rule, then adds the security headers."""

    def __init__(
        self,
        reflex_app: ASGIApp,
        *,
        upload_limits: dict[str, uploads.UploadLimit] | None = None,
        rest_app: ASGIApp | None = None,
        host_routing: bool = False,
        short_links: bool | None = None,
    ) -> None:
        self.reflex_app = reflex_app
        # SPEC §14: `GET /l/{slug}` and `/{slug}` redirects answered here, before the Reflex
        # app's own layers (`content.serve_short_link`; the app's `RootShortLinks` answers
        # them otherwise). On in the app (with host routing, unless said otherwise); tests
        # with a stand-in app behind the gateway leave it off.
        self.short_links = host_routing if short_links is None else short_links
        # SPEC §15: requests for any host but the app's own go to `custom_host` (branded
        # short-link domains; unknown hosts get 404). The app turns it on (orgportal.py);
        # tests that use a made-up Host like `testserver` leave it off.
        self.host_routing = host_routing
        self.uploads = uploads.UploadGate(reflex_app, upload_limits or {})
        self.public = public_tickets.public_api()
        self.api = rest_app or build_api()
        self.rest = CORSMiddleware(
            self.api,
            allow_origins=["*"],
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = _forwarded_scheme(scope)
        if scope["type"] == "http":
            # SPEC §18: a request id, metrics and a JSON log line for every request. The
            # probes and /metrics answer on any host and origin, and never set a cookie.
            own = operations.OWN_PATHS.get(scope["path"])
            if own is not None:
                send = security_headers.adding(send, security_headers.for_path(scope["path"]))
            await operations.observe(scope, receive, send, own or self._route)
            return
        await self._route(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.reflex_app(scope, receive, send)
            return
        if self.host_routing and not custom_host.is_own_host(custom_host.request_host(scope)):
            # the security headers on its HTTP answers, and no cookie
            extra = security_headers.for_path(scope["path"]) if scope["type"] == "http" else []
            await custom_host.app(scope, receive, send, extra)
            return
        if scope["type"] == "websocket":
            if cross_origin_refusal(scope):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
            if not redis_reachable():  # the page's state lives there: try again later
                await receive()
                await send({"type": "websocket.close", "code": 1013})
                return
            with metrics.WEBSOCKET_CONNECTIONS.track_inprogress():
                await self.reflex_app(scope, receive, send)
            return
        path = scope["path"]
        # Every use case of this request runs for its client's address (the Security
        # settings of any organization it touches are held there: `permissions.require`).
        rest = is_rest_path(path)  # matched once: the REST patterns are many
        api = rest or is_scim_path(path)
        address = scope[operations.CLIENT_ADDRESS] = client_address.of_scope(scope)
        with client_address.calling_from(address, api=api):
            await self._dispatch(scope, receive, send, path, rest)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, path: str, rest: bool
    ) -> None:
        # every response gets the security headers, a page also the nonce cookie (a short
        # link's redirect loads no page: it sends the headers itself, and the cookie, a
        # random token, is made only for the other answers; they get both through the
        # wrapped `send`)
        extra = security_headers.for_path(path)

        def page_extra() -> list[tuple[bytes, bytes]]:
            return _browser_cookie(scope)

        def wrapped() -> Send:
            return security_headers.adding(send, extra + page_extra())

        if path.startswith(public_tickets.PREFIX + "/"):
            await self.public(scope, receive, wrapped())
        elif rest:
            await self.rest(scope, receive, wrapped())
        elif is_scim_path(path):
            await self.api(scope, receive, wrapped())
        elif not SAML_ACS.match(path) and (reason := cross_origin_refusal(scope)):
            await JSONResponse({"detail": reason}, status_code=403)(scope, receive, wrapped())
        elif path == uploads.PATH and scope["method"] == "POST":
            await self.uploads(scope, receive, wrapped())
        elif not (  # a short link's redirect sends `extra` itself
            self.short_links
            and await content.serve_short_link(
                scope, receive, send, self.reflex_app, extra, page_extra=page_extra
            )
        ):
            await self.reflex_app(scope, receive, wrapped())


def _forwarded_scheme(scope: Scope) -> Scope:
    """Behind a TLS-terminating proxy in TRUSTED_PROXIES, the scheme the client used
    (`X-Forwarded-Proto`), so that redirects the app builds (`/register` → `/register/`)
    keep `https`. From anyone else the header is ignored."""
    proto = _header(scope, b"x-forwarded-proto")
    peer = (scope.get("client") or ("", 0))[0] or ""
    if proto not in ("http", "https") or not client_address.is_trusted_proxy(peer):
        return scope
    if scope["type"] == "websocket":
        return {**scope, "scheme": "wss" if proto == "https" else "ws"}
    return {**scope, "scheme": proto}


def redis_reachable() -> bool:
    """False while this worker's live-bus subscription has lost Redis (SPEC §18): every
    page's state lives in Redis then, so a websocket would connect to a page that cannot
    hydrate. Refused at once (close 1013, "try again later"), the browser shows Reflex's
    connection banner and retries until Redis is back. Always True without REDIS_URL."""
    return getattr(live.bus(), "available", True)


def _browser_cookie(scope: Scope) -> list[tuple[bytes, bytes]]:
    """A random per-browser nonce, set on the first page load: a sign-in ticket is bound to
    it, so a page elsewhere cannot sign this browser into another account (login CSRF).
    The page's websocket then carries it to the sign-in handler. Not on a short link's
    redirect: no page of ours loads there (a target that is one sets it as it loads)."""
    name = settings.browser_cookie
    if scope["method"] != "GET" or scope["path"].startswith(("/api/", "/_", SCIM_PREFIX + "/")):
        return []
    cookie = _header(scope, b"cookie")
    if cookie and name in cookie_parser(cookie):
        return []
    secure = "; Secure" if settings.secure_cookies else ""
    # as `security.new_token()`: 32 random bytes (drawn from the pool every request uses)
    value = f"{name}={randomness.token_urlsafe(32)}; Path=/; HttpOnly; SameSite=Lax{secure}"
    return [(b"set-cookie", value.encode())]
