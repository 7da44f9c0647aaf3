"""Short-link redirects and My Files downloads (session cookie, workspace checked)."""

import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from orgportal import routes
from orgportal.adapters import logs
from orgportal.adapters.storage import BlobMissing
from orgportal.api import click_recording, public_pages, security_headers
from orgportal.db import UNAVAILABLE_MESSAGE, database_unavailable, unit_of_work
from orgportal.services import accounts, files, links, org_security
from orgportal.services.client_address import client_address
from orgportal.services.errors import DomainError

router = APIRouter(include_in_schema=False)


FOLLOW_PREFIX = "/l/"


@router.get(FOLLOW_PREFIX + "{slug}")
async def follow_short_link(slug: str, request: Request) -> Response:
    """What `RootShortLinks` answers before this route is reached (in the app); here for
    `build_api()` served alone."""
    link = await click_recording.find(slug)
    if link is not None and link.pending_approval:
        return awaiting_approval_response(request.headers)
    if link is None:  # a styled page for browsers, JSON for programs
        return public_pages.respond(request.headers, public_pages.NO_SUCH_LINK, status=404)
    return click_recording.redirect(await click_recording.note(link, request.headers))


# The routes the fast path below counts and logs its answers under
# (`operations.route_template`): it answers before any router has matched one.
FOLLOW_ROUTE = Route(FOLLOW_PREFIX + "{slug}", follow_short_link, methods=["GET"])
ROOT_ROUTE = Route("/{slug}", follow_short_link, methods=["GET"])


@router.get("/api/files/{file_id}")
def download_file(file_id: int, request: Request) -> Response:
    try:
        with unit_of_work() as session:
            viewer = accounts.authenticate(session, request.cookies.get(routes.SESSION_COOKIE))
            logs.bind(user_id=viewer.user.id)
            stored = files.get_file(session, user=viewer.user, file_id=file_id)
            logs.bind(organization_id=stored.organization_id)
            org_security.check_access(  # the file's organization's Security settings
                session,
                user=viewer.user,
                organization_id=stored.organization_id,
                address=client_address(
                    request.client.host if request.client else "",
                    ",".join(request.headers.getlist("x-forwarded-for")) or None,
                ),
            )
        chunks = files.stream(stored)  # BlobMissing now, not halfway through the response
    except DomainError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    except BlobMissing:
        return JSONResponse({"detail": "File not found."}, status_code=404)
    return StreamingResponse(
        chunks,
        media_type=stored.content_type,
        headers={
            "Content-Length": str(stored.size_bytes),
            "Content-Disposition": f"attachment; filename*=utf-8''{quote(stored.name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


class RootShortLinks:
    """The short-link redirects, answered first (SPEC §7, §14): `GET /l/{slug}`, and
    `/{slug}` without shadowing the app's own pages (only a single path segment that looks
    like a slug and is not a page name is looked up; a missing one goes on to the app).

    On the event loop, from this worker's cache of links (`services/redirect_cache.py`):
    a known link costs no database query and no thread. The gateway answers them itself
    (`serve_short_link`, before the Reflex app's own layers); this layer, where the app
    mounts it, answers what reaches it without having been looked at there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await serve_short_link(scope, receive, send, self.app):
            await self.app(scope, receive, send)


_LOOKED_AT = "orgportal.short_link"  # scope key: this request's slug was looked up already


async def serve_short_link(
    scope: Scope,
    receive: Receive,
    send: Send,
    app: ASGIApp,
    extra: Sequence[tuple[bytes, bytes]] = (),
    page_extra: Callable[[], Sequence[tuple[bytes, bytes]]] = tuple,
) -> bool:
    """Answer `scope` if it is a short link's redirect (a missing `/{slug}` goes on to
    `app`); False: not a short-link path, nothing was sent. `extra`: headers to add to
    whatever is answered (`security_headers.adding`; the gateway's); `page_extra`: makes
    the headers for anything but the redirect (the gateway's browser nonce cookie, a random
    token: a page loads), called only for those."""
    if scope["type"] != "http" or scope.get("method") != "GET" or scope.get(_LOOKED_AT):
        return False
    path: str = scope["path"]
    if path.startswith(FOLLOW_PREFIX):
        slug = path[len(FOLLOW_PREFIX) :]
        if not slug or "/" in slug:
            return False
        scope[_LOOKED_AT] = True
        scope["route"] = FOLLOW_ROUTE
        await serve_slug(
            scope, receive, send, slug, or_else=None, extra=extra, page_extra=page_extra
        )
        return True
    slug = path.strip("/")
    if not (
        slug and "/" not in slug and links.SLUG_PATTERN.match(slug) and slug not in links.RESERVED
    ):
        return False
    scope[_LOOKED_AT] = True
    await serve_slug(scope, receive, send, slug, or_else=app, extra=extra, page_extra=page_extra)
    return True


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's headers as one dict, read in one pass: lower-case names; a repeated
    header, its first value (as `Headers.get`), but Cookie's lines joined (HTTP/2 splits
    them)."""
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1")
        if name not in headers:
            headers[name] = value.decode("latin-1")
        elif name == "cookie":
            headers[name] += "; " + value.decode("latin-1")
    return headers


async def serve_slug(
    scope: Scope,
    receive: Receive,
    send: Send,
    slug: str,
    *,
    or_else: ASGIApp | None,
    extra: Sequence[tuple[bytes, bytes]] = (),
    page_extra: Callable[[], Sequence[tuple[bytes, bytes]]] = tuple,
) -> None:
    """Redirect to the slug's link; a pending one's page; no such link: `or_else` (the app
    behind `/{slug}`), or the 404 page of `/l/{slug}`. `extra`: headers added to any of
    them (to the redirect directly, to the others by wrapping `send`); `page_extra()`: to
    all but the redirect."""
    seen = request_headers(scope)
    try:
        link = await click_recording.find(slug)
        if link is not None and not link.pending_approval:
            followed = await click_recording.note(link, seen)
    except DBAPIError as exc:
        if or_else is not None or not database_unavailable(exc):
            raise
        answer = database_unavailable_response()
        await answer(scope, receive, security_headers.adding(send, [*extra, *page_extra()]))
        return
    if link is not None and not link.pending_approval:
        scope.setdefault("route", ROOT_ROUTE)
        await click_recording.send_redirect(followed, send, extra)
        return
    send = security_headers.adding(send, [*extra, *page_extra()])
    if link is None:
        if or_else is not None:
            await or_else(scope, receive, send)
        else:  # a styled page for browsers, JSON for programs
            page = public_pages.respond(Headers(scope=scope), public_pages.NO_SUCH_LINK, status=404)
            await page(scope, receive, send)
    else:  # pending approval
        scope.setdefault("route", ROOT_ROUTE)
        await awaiting_approval_response(Headers(scope=scope))(scope, receive, send)


def database_unavailable_response() -> JSONResponse:
    """The database went away during the request (SPEC §18): nothing was changed, try again
    (the API's error shape)."""
    return JSONResponse(
        {"detail": UNAVAILABLE_MESSAGE},
        status_code=503,
        headers={"Retry-After": "2"},
    )


# Crawlers and link-preview fetchers: a pending link is simply not there for them.
_BOT = re.compile(r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly", re.IGNORECASE)


def awaiting_approval_response(headers: Headers) -> Response:
    """A pending link (SPEC §14): a page saying so for people's browsers (200, never a
    redirect); 404 for bots and API clients, which must never treat it as a working link.
    Never cached (`public_pages.respond`)."""
    page = public_pages.AWAITING_APPROVAL
    if _BOT.search(headers.get("user-agent", "")):
        return public_pages.respond(headers, page, status=404)
    return public_pages.respond(headers, page, status=404, html_status=200)
