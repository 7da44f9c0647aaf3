"""Short-link redirects and My Files downloads (session cookie, workspace checked)."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from orgportal import routes
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import accounts, files, links
from orgportal.services.errors import DomainError

router = APIRouter(include_in_schema=False)


@router.get("/l/{slug}")
def follow_short_link(slug: str) -> Response:
    with unit_of_work() as session:
        target = links.resolve(session, slug)
    if target is None:
        return JSONResponse({"detail": "No such short link."}, status_code=404)
    return RedirectResponse(target, status_code=302)


@router.get("/api/files/{file_id}")
def download_file(file_id: int, request: Request) -> Response:
    try:
        with unit_of_work() as session:
            viewer = accounts.authenticate(session, request.cookies.get(routes.SESSION_COOKIE))
            stored = files.get_file(session, user=viewer.user, file_id=file_id)
    except DomainError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    return FileResponse(
        files.path_of(stored, settings.files_dir),
        media_type=stored.content_type,
        filename=stored.name,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
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
            target = await _resolve(slug)
            if target:
                await RedirectResponse(target, status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _resolve(slug: str) -> str | None:
    def lookup() -> str | None:
        with unit_of_work() as session:
            return links.resolve(session, slug)

    return await run_in_threadpool(lookup)
