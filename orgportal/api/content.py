"""Short-link redirects and My Files downloads (session cookie, workspace checked)."""

import re
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
from orgportal.api import click_recording, public_pages
from orgportal.db import database_unavailable, unit_of_work
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


# The route `/l/{slug}` is counted and logged under (`operations.route_template`) when the
# fast path below answers it before the API's router sees it.
FOLLOW_ROUTE = Route(FOLLOW_PREFIX + "{slug}", follow_short_link, methods=["GET"])


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
    a known link costs no database query and no thread. Everything in front of it (the
    gateway's request id, metrics, log line, security headers and client address) is
    unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            path: str = scope["path"]
            if path.startswith(FOLLOW_PREFIX):
                slug = path[len(FOLLOW_PREFIX) :]
                if slug and "/" not in slug:
                    scope["route"] = FOLLOW_ROUTE
                    await serve_slug(scope, receive, send, slug, or_else=None)
                    return
            else:
                slug = path.strip("/")
                if (
                    slug
                    and "/" not in slug
                    and links.SLUG_PATTERN.match(slug)
                    and slug not in links.RESERVED
                ):
                    await serve_slug(scope, receive, send, slug, or_else=self.app)
                    return
        await self.app(scope, receive, send)


async def serve_slug(
    scope: Scope, receive: Receive, send: Send, slug: str, *, or_else: ASGIApp | None
) -> None:
    """Redirect to the slug's link; a pending one's page; no such link: `or_else` (the app
    behind `/{slug}`), or the 404 page of `/l/{slug}`."""
    headers = Headers(scope=scope)
    try:
        link = await click_recording.find(slug)
        if link is not None and not link.pending_approval:
            followed = await click_recording.note(link, headers)
    except DBAPIError as exc:
        if or_else is not None or not database_unavailable(exc):
            raise
        await database_unavailable_response()(scope, receive, send)
        return
    if link is None:
        if or_else is not None:
            await or_else(scope, receive, send)
        else:  # a styled page for browsers, JSON for programs
            page = public_pages.respond(headers, public_pages.NO_SUCH_LINK, status=404)
            await page(scope, receive, send)
    elif link.pending_approval:
        await awaiting_approval_response(headers)(scope, receive, send)
    else:
        await click_recording.send_redirect(followed, send)


def database_unavailable_response() -> JSONResponse:
    """The database went away during the request (SPEC §18): nothing was changed, try again
    (the API's error shape)."""
    return JSONResponse(
        {"detail": "The database is unavailable for a moment. Nothing was changed: try again."},
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
