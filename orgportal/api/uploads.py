"""The gate in front of Reflex's `POST /_upload`: authenticate first, then cap the body as
it streams.

Reflex parses an upload's whole multipart body before it calls the event handler, so a
check inside the handler comes too late: an anonymous client could make the worker take
in any amount. Here the session cookie is checked before a single body byte is read, the
handler named in `Reflex-Event-Handler` must be one of ours, its limit for this viewer is
asked (a logo's 2 MB; a file's per-file cap or the pool's free storage), a declared
`Content-Length` over it is refused at once, and a body that grows past it is cut off.

The browser's upload call drops a refused answer's body (Reflex's `uploadFiles` only logs
"HTTP error"), so the page that started the upload is told why as well: after answering,
the gate calls `_upload_refused(message)` on the state of the refused handler, for that
client (`app.modify_state`), and the page shows the reason beside its upload control.
"""

import logging
import sys
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgportal import routes
from orgportal.db import unit_of_work
from orgportal.services import accounts, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError, NotAuthenticated

log = logging.getLogger(__name__)

UploadLimit = Callable[[Session, Viewer], int]
# Room for the multipart framing and the small form fields around the file bytes.
MULTIPART_OVERHEAD = 64 * 1024
PATH = "/_upload"


class _TooLarge(Exception):
    pass


class UploadGate:
    """`limits` maps each upload handler's full name to the bytes it may take now."""

    def __init__(self, app: ASGIApp, limits: dict[str, UploadLimit]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        limit_for = self.limits.get(headers.get("reflex-event-handler", ""))
        if limit_for is None:
            await _refuse(scope, receive, send, 404, "Unknown upload.")
            return
        cookie = cookie_parser(headers.get("cookie", "")).get(routes.SESSION_COOKIE)
        try:
            limit = await run_in_threadpool(_limit, cookie, limit_for)
        except DomainError as exc:
            await _refuse(scope, receive, send, exc.status, exc.message)
            if not isinstance(exc, NotAuthenticated):  # a signed-out page has no upload
                await tell_page(headers, exc.message)
            return
        allowed = limit + MULTIPART_OVERHEAD
        too_large = f"This upload is larger than the {usage.human_bytes(limit)} allowed now."
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > allowed:
            await _refuse(scope, receive, send, 413, too_large)
            await tell_page(headers, too_large)
            return
        if await self._capped(scope, receive, send, allowed, too_large):
            await tell_page(headers, too_large)

    async def _capped(
        self, scope: Scope, receive: Receive, send: Send, allowed: int, too_large: str
    ) -> bool:
        """Pass the request on, counting body bytes; past `allowed` the app sees the client
        disconnect (it stops parsing) and the client gets 413 instead of the app's answer.
        Whether it was cut off."""
        seen = 0
        cut = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > allowed:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut:
                if not started:
                    started = True
                    await _refusal(413, too_large)(scope, _no_body, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not cut:
                raise
        if cut and not started:
            await _refusal(413, too_large)(scope, _no_body, send)
        return cut


async def tell_page(headers: Headers, message: str) -> None:
    """Give the refusal to the page whose upload it was: `_upload_refused(message)` on the
    handler's state, for the client named by `Reflex-Client-Token`. Only handlers in the
    gate's table get here, and only signed-in callers; a state without the hook, an app
    not running in this process (the gate's unit tests) or a failure is passed over: the
    HTTP answer has been sent already."""
    token = headers.get("reflex-client-token", "")
    handler = headers.get("reflex-event-handler", "")
    app = _running_app()
    if not token or app is None:
        return
    try:
        state_class = app._state.get_class_substate(handler.rpartition(".")[0])
        if not callable(getattr(state_class, "_upload_refused", None)):
            return
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=state_class)) as root:
            state = await root.get_state(state_class)
            state._upload_refused(message)
    except Exception:
        log.exception("could not show an upload refusal on its page")


def _running_app() -> rx.App | None:
    """The app this worker serves, if its module is loaded (never imported from here)."""
    from reflex.config import get_config

    module = sys.modules.get(get_config().module)
    app = getattr(module, "app", None)
    running = isinstance(app, rx.App) and app._state is not None and app.event_namespace
    return app if running else None


def _limit(cookie: str | None, limit_for: UploadLimit) -> int:
    with unit_of_work() as session:
        viewer = accounts.authenticate(session, cookie)
        return limit_for(session, viewer)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _refusal(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    await _refusal(status, detail)(scope, receive, send)
