"""Short-link redirects and My Files downloads (session cookie, workspace checked)."""

import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from orgportal import routes
from orgportal.adapters import logs
from orgportal.adapters.storage import BlobMissing
from orgportal.api import click_recording, public_pages
from orgportal.db import unit_of_work
from orgportal.services import accounts, files, links, org_security
from orgportal.services.client_address import client_address
from orgportal.services.errors import DomainError

router = APIRouter(include_in_schema=False)


@router.get("/l/{slug}")
def follow_short_link(slug: str, request: Request) -> Response:
    with unit_of_work() as session:
        followed = click_recording.follow(session, slug, request.headers)
        pending = followed is None and links.awaiting_approval(session, slug)
    if pending:
        return awaiting_approval_response(request.headers)
    if followed is None:  # a styled page for browsers, JSON for programs
        return public_pages.respond(request.headers, public_pages.NO_SUCH_LINK, status=404)
    return click_recording.redirect(followed)


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
    """`/{slug}` redirects too (SPEC §7), without shadowing the app's own pages: only a
    single path segment that looks like a slug and is not a page name reaches the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        slug = path.strip("/")
        if (
            scope.get("method") == "GET"
            and slug
            and "/" not in slug
            and links.SLUG_PATTERN.match(slug)
            and slug not in links.RESERVED
        ):
            followed = await _resolve(slug, Headers(scope=scope))
            if followed:
                await click_recording.redirect(followed)(scope, receive, send)
                return
            if await _awaiting_approval(slug):
                headers = Headers(scope=scope)
                await awaiting_approval_response(headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _resolve(slug: str, headers: Headers) -> click_recording.Followed | None:
    def lookup() -> click_recording.Followed | None:
        with unit_of_work() as session:
            return click_recording.follow(session, slug, headers)

    return await run_in_threadpool(lookup)


async def _awaiting_approval(slug: str) -> bool:
    def lookup() -> bool:
        with unit_of_work() as session:
            return links.awaiting_approval(session, slug)

    return await run_in_threadpool(lookup)


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
