"""The redirect's side of click recording (SPEC §14): find the link, note the click, answer.

`find` reads the link from this worker's cache (`services/redirect_cache.py`), the database
only on a miss; `note` records the click of a found link (`follow` does both in one session,
for callers that hold one). With CLICK_RECORDING=queued (the default) the click is only
appended to this worker's queue, written in batches by a process of its own
(`adapters/batch_process.py`, running `clicks.store`: the User-Agent and Referer are parsed
there, off the worker's GIL); `inline` writes it before
the redirect answers, in a transaction of its own (in the caller's, for `follow`); `off`
records nothing. The visitor gets a random first-party id
cookie (`op_vid`); no IP address is kept anywhere.
"""

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import Send

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.adapters.batch_process import ProcessQueue
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import clicks, links, redirect_cache
from orgportal.services.clicks import Hit
from orgportal.services.redirect_cache import Redirect


@dataclass(frozen=True)
class Followed:
    target: str
    new_visitor: str = ""  # set this visitor cookie on the response


def follow(session: Session, slug: str, headers: Mapping[str, str]) -> Followed | None:
    """Where /l/{slug} (or /{slug}) goes, with the click noted; None: no such live link."""
    link = links.redirect_link(session, slug)
    if link is None:
        return None
    return note_in(session, link, headers)


def note_in(session: Session, link: clicks.Followable, headers: Mapping[str, str]) -> Followed:
    """`note` inside the caller's transaction (inline recording writes in it)."""
    if settings.click_recording == "off":
        return Followed(link.target_url)
    hit, new_visitor = _hit(link, headers)
    if settings.click_recording == "inline":
        clicks.record(session, [hit])
    else:
        queue().put(hit)
    return Followed(clicks.target_for(link, hit), new_visitor)


def _hit(link: clicks.Followable, headers: Mapping[str, str]) -> tuple[Hit, str]:
    """The click as the request shows it (nothing parsed yet: the User-Agent is read when
    the click is written), and the new visitor id to set as a cookie ("" when known)."""
    cookie = headers.get("cookie", "")
    known = cookie_parser(cookie).get(clicks.VISITOR_COOKIE) if cookie else None
    visitor, new = clicks.visitor_id(known)
    hit = clicks.new_hit(
        link,
        user_agent=headers.get("user-agent", ""),
        referrer=headers.get("referer", ""),
        country=clicks.country_from(headers, settings.country_header),
        visitor=visitor,
    )
    return hit, visitor if new else ""


async def find(slug: str) -> Redirect | None:
    """The slug's link, pending approval or not (None: no such link): from this worker's
    cache when it holds it, else from the database (in the threadpool) and kept."""
    worker_cache.ensure_listening(db.bus)
    found = redirect_cache.cached_link(slug)
    if found is not None:
        return found

    def load() -> Redirect | None:
        with unit_of_work() as session:
            return redirect_cache.load_link(session, slug)

    return await run_in_threadpool(load)


async def note(link: Redirect, headers: Mapping[str, str]) -> Followed:
    """Record the click of a found, approved link (as CLICK_RECORDING says) and say where
    it goes. Queued (the default): only appended here; the User-Agent, referrer and rollups
    are worked out by the queue's writer process. Inline: written in a transaction of its own."""
    if settings.click_recording == "off":
        return Followed(link.target_url)
    hit, new_visitor = _hit(link, headers)
    if settings.click_recording == "inline":

        def write() -> None:
            with unit_of_work() as session:
                clicks.record(session, [hit])

        await run_in_threadpool(write)
    else:
        queue().put(hit)
    return Followed(clicks.target_for(link, hit), new_visitor)


_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"  # what Starlette's RedirectResponse leaves unquoted


async def send_redirect(
    followed: Followed, send: Send, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send `redirect(followed)`'s very bytes without building a Response: the 302 every
    visitor of every link gets, answered on the event loop. `extra`: headers the front door
    adds to every response (`security_headers.adding`), given here to be sent as they are
    (a redirect sets none of them itself) instead of by a wrapper around `send`."""
    headers = [
        (b"content-length", b"0"),
        (b"location", quote(followed.target, safe=_LOCATION_SAFE).encode("latin-1")),
    ]
    if followed.new_visitor:
        headers.append((b"set-cookie", _visitor_cookie(followed.new_visitor)))
    headers += extra
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _visitor_cookie(visitor: str) -> bytes:
    """The Set-Cookie value `redirect` gives (its attributes as Starlette writes them)."""
    prefix, suffix = _cookie_template(settings.secure_cookies)
    return prefix + visitor.encode("latin-1") + suffix


@cache
def _cookie_template(secure: bool) -> tuple[bytes, bytes]:
    marker = "VISITOR0123456789abcdef"
    response = RedirectResponse("/", status_code=302)
    _set_visitor_cookie(response, marker, secure)
    prefix, _, suffix = dict(response.raw_headers)[b"set-cookie"].partition(marker.encode())
    return prefix, suffix


def redirect(followed: Followed) -> RedirectResponse:
    response = RedirectResponse(followed.target, status_code=302)
    if followed.new_visitor:
        _set_visitor_cookie(response, followed.new_visitor, settings.secure_cookies)
    return response


def _set_visitor_cookie(response: RedirectResponse, visitor: str, secure: bool) -> None:
    response.set_cookie(
        clicks.VISITOR_COOKIE,
        visitor,
        max_age=clicks.VISITOR_COOKIE_DAYS * 24 * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


@cache
def queue() -> ProcessQueue[Hit]:
    """This worker's click queue (one per worker process)."""
    return new_queue()


# A process forked from one with a queue starts its own (the copy's thread and writer are
# its parent's, and the clicks in it are the parent's to write).
os.register_at_fork(after_in_child=queue.cache_clear)


def new_queue() -> ProcessQueue[Hit]:
    """A click queue whose writer, a process of its own, writes to this worker's database
    (`db.engine`, which tests point elsewhere); the worker announces what it wrote."""
    return ProcessQueue(
        "orgportal.services.clicks:store",
        settings.click_flush_seconds,
        db.announce_changes,
        lambda: {"DATABASE_URL": db.engine().url.render_as_string(hide_password=False)},
    )


async def flush_at_shutdown() -> None:
    """Lifespan task of each worker: the clicks still queued when it stops are written."""
    try:
        await asyncio.Event().wait()
    finally:
        if queue.cache_info().currsize:  # this worker has queued clicks
            await asyncio.to_thread(queue().stop)
