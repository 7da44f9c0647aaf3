"""The redirect's side of click recording (SPEC §14): find the link, note the click, answer.

`follow` runs inside the redirect's transaction. With CLICK_RECORDING=queued (the default)
it only appends the click to the in-process queue (`adapters/click_queue.py`), written in
batches off the redirect's path; `inline` writes it in the redirect's own transaction;
`off` records nothing (the benchmark's baseline). The visitor gets a random first-party id
cookie (`op_vid`); no IP address is kept anywhere.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from http.cookies import SimpleCookie

from fastapi.responses import RedirectResponse
from sqlmodel import Session

from orgportal.adapters.click_queue import BatchQueue
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import clicks, links
from orgportal.services.clicks import Hit


@dataclass(frozen=True)
class Followed:
    target: str
    new_visitor: str = ""  # set this visitor cookie on the response


def follow(session: Session, slug: str, headers: Mapping[str, str]) -> Followed | None:
    """Where /l/{slug} (or /{slug}) goes, with the click noted; None: no such live link."""
    link = links.redirect_link(session, slug)
    if link is None:
        return None
    if settings.click_recording == "off":
        return Followed(link.target_url)
    visitor, new = clicks.visitor_id(_cookie(headers.get("cookie", ""), clicks.VISITOR_COOKIE))
    hit = clicks.new_hit(
        link,
        user_agent=headers.get("user-agent", ""),
        referrer=headers.get("referer", ""),
        country=clicks.country_from(headers, settings.country_header),
        visitor=visitor,
    )
    if settings.click_recording == "inline":
        clicks.record(session, [hit])
    else:
        queue().put(hit)
    return Followed(clicks.target_for(link, hit), visitor if new else "")


def redirect(followed: Followed) -> RedirectResponse:
    response = RedirectResponse(followed.target, status_code=302)
    if followed.new_visitor:
        response.set_cookie(
            clicks.VISITOR_COOKIE,
            followed.new_visitor,
            max_age=clicks.VISITOR_COOKIE_DAYS * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response


def _write(batch: list[Hit]) -> None:
    with unit_of_work() as session:
        clicks.record(session, batch)


@cache
def queue() -> BatchQueue[Hit]:
    return BatchQueue(_write, settings.click_flush_seconds)


async def flush_at_shutdown() -> None:
    """Lifespan task of each worker: the clicks still queued when it stops are written."""
    try:
        await asyncio.Event().wait()
    finally:
        if queue.cache_info().currsize:  # this worker has queued clicks
            await asyncio.to_thread(queue().stop)


def _cookie(header: str, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
