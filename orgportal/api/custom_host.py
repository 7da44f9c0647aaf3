"""Requests whose Host is not the app's own (SPEC §15): branded short-link domains.

The gateway sends every request for another host here, before anything of the app sees it.
A verified custom domain serves `GET|HEAD /{slug}` of its own organization's links (through
the same redirect and click recording as `/l/{slug}`); every other path there, every other
organization's slug, every websocket and every unknown or unverified host gets 404 (a
styled page for browsers, JSON for programs: `public_pages`; its stylesheet is the one other
path served). The app's pages, API and websocket are never served on a custom domain.

Host → organization, and each slug's link, come from this worker's caches
(`services/redirect_cache.py`, both answers for hosts, so a flood of made-up hosts costs one
query per host, and the cache is bounded): a removed, unverified or failed domain, like a
changed link, is seen by the next request, in every worker once the live bus brings it.
"""

import asyncio
import logging
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.api import click_recording, content, public_pages
from orgportal.api.security_headers import adding
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import company_domains, custom_domains, links, redirect_cache

log = logging.getLogger("orgportal")


def request_host(scope: Scope) -> str:
    """The Host header's name, lower case, without port or trailing dot ("" when absent)."""
    for key, value in scope.get("headers", ()):
        if key == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):  # [::1]:3000
                return host[1:].split("]", 1)[0]
            return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")
    return ""


def is_own_host(host: str) -> bool:
    """No Host header (HTTP/1.0, internal probes) or one of the app's own names."""
    return not host or host in custom_domains.app_hosts()


def clear_cache() -> None:
    """Forget this worker's cached hosts and links (tests)."""
    worker_cache.clear()


async def serving_organization(host: str) -> int | None:
    worker_cache.ensure_listening(db.bus)
    known, organization_id = redirect_cache.cached_host(host)
    if known:
        return organization_id

    def lookup() -> int | None:
        with unit_of_work() as session:
            return redirect_cache.load_host(session, host)

    return await run_in_threadpool(lookup)


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """No such short link here: nothing tells an unknown host from a missing slug."""
    response = public_pages.respond(
        Headers(scope=scope), public_pages.NO_SUCH_LINK, status=404, home_link=False
    )
    await response(scope, receive, send)


async def app(
    scope: Scope, receive: Receive, send: Send, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """The whole of what a non-app host is served. `extra`: headers added to every answer
    (the gateway's security headers: to a redirect directly, to the others by wrapping)."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    slug = scope.get("path", "").strip("/")
    organization_id = link = None
    if scope.get("method") in ("GET", "HEAD"):
        if scope.get("path") == public_pages.STYLESHEET_PATH:
            await public_pages.stylesheet_response()(scope, receive, adding(send, extra))
            return
        if slug and "/" not in slug and links.SLUG_PATTERN.match(slug):
            organization_id = await serving_organization(request_host(scope))
    if organization_id is not None:
        link = await click_recording.find(slug)
    if link is None or link.pending_approval or link.organization_id != organization_id:
        await not_found(scope, receive, adding(send, extra))  # or another organization's link
        return
    scope["route"] = content.ROOT_ROUTE  # counted and logged as `/{slug}`, found at once
    followed = await click_recording.note(link, content.request_headers(scope))
    await click_recording.send_redirect(followed, send, extra)


async def reverify_worker() -> None:
    """Lifespan task: every PENDING_DOMAIN_RECHECK_SECONDS (5 minutes), look up the domains
    still waiting for their DNS records (their first 48 hours), and re-check the
    verified domains not checked for a day."""
    while True:
        try:
            await asyncio.to_thread(_reverify)
        except Exception:  # keep the worker alive; the domains are tried again next round
            log.exception("custom domain re-verification round failed")
        await asyncio.sleep(settings.pending_domain_recheck_seconds)


def _reverify() -> None:
    with unit_of_work() as session:
        custom_domains.recheck_pending(session)
    with unit_of_work() as session:
        custom_domains.reverify_due(session)
    with unit_of_work() as session:  # company domains (SPEC §16): the same two checks
        company_domains.recheck_pending(session)
    with unit_of_work() as session:
        company_domains.reverify_due(session)
