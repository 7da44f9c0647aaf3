"""Structured logs (SPEC §18): one JSON object per line, with who and what it was for.

Every record of the `orgportal` loggers leaves as one JSON line on stderr (`configure`, run
by each backend worker at start-up), at LOG_LEVEL and above. A record made while a request
or a websocket event is handled also carries that request's fields:

- `request_id`: the incoming `X-Request-ID` when well-formed (`request_id`), else a new
  one; HTTP responses return it in their own `X-Request-ID` header;
- `user_id`, `organization_id`: once the request's session or API key is authenticated,
  bound there with `bind(...)` (the state core's `_viewer`, the REST key check, downloads).

The fields live in a dict held by a context variable: the request's boundary starts one
(`request_context`), and code anywhere below it (threads of the pool too: they run in a copy
of the context, which holds the same dict) adds to it. Nothing secret is ever a field: no
query string, no cookie or Authorization header, and the paths of links that carry a token
are logged as their route template (`loggable_path`).
"""

import asyncio
import contextlib
import json
import logging
import re
import sys
import traceback
from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from orgportal import randomness

LOGGER = "orgportal"
REQUEST_ID_HEADER = "x-request-id"
# An incoming X-Request-ID is kept when it looks like an id (a UUID, a proxy's hex id…);
# anything else (too long, spaces, quotes, control characters) is replaced by a fresh one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
# Path segments that look like a random token (ours are 43 URL-safe characters) are never
# logged, whatever route they reached.
_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-.~%]{24,}(?=/|$)")
_SECRET_PARAMS = re.compile(r"[\[{](token|ticket|key|secret|code)[\]}:]", re.IGNORECASE)

_fields: ContextVar[dict[str, Any] | None] = ContextVar("orgportal_log_fields", default=None)


def request_id(incoming: str | None) -> str:
    """The incoming id when well-formed, else a new random one."""
    if incoming and _REQUEST_ID.match(incoming):
        return incoming
    return randomness.token_hex(16)


def request_context(**fields: Any) -> AbstractContextManager[dict[str, Any]]:
    """Start a request's fields (e.g. its `request_id`); the block gets the dict `bind`
    adds to."""
    return _RequestContext({key: value for key, value in fields.items() if value is not None})


class _RequestContext:
    """`request_context`'s block: a class, not a generator, as every request enters one."""

    __slots__ = ("_fields", "_token")

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __enter__(self) -> dict[str, Any]:
        self._token = _fields.set(self._fields)
        return self._fields

    def __exit__(self, *_exc: object) -> None:
        _fields.reset(self._token)


def start(**fields: Any) -> dict[str, Any]:
    """`request_context` for a boundary that cannot wrap its work in a block (a websocket
    event's task): the fields stay set for the rest of the current context."""
    current = {key: value for key, value in fields.items() if value is not None}
    _fields.set(current)
    return current


def bind(**fields: Any) -> None:
    """Add fields (`user_id=…`, `organization_id=…`) to the running request's log lines.
    Outside any request (a script, a background job) it starts a context of its own."""
    current = _fields.get()
    if current is None:
        current = {}
        _fields.set(current)
    current.update({key: value for key, value in fields.items() if value is not None})


def bind_viewer(viewer: Any) -> None:
    """`bind` for an authenticated session (`services.accounts.Viewer`)."""
    bind(user_id=viewer.user.id, organization_id=viewer.session.active_org_id)


def current() -> dict[str, Any]:
    """The running request's fields (a copy)."""
    return dict(_fields.get() or {})


def loggable_path(path: str, template: str | None = None) -> str:
    """`path` as it may be logged: its route template when the route carries a token
    (`/password-reset/[token]`), else the path with anything token-like cut out. Never a
    query string (the caller passes the path alone)."""
    if template and _SECRET_PARAMS.search(template):
        return template
    return _TOKEN_SEGMENT.sub("…", path[:300])


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request's fields, the
    record's own `fields` (`log.info("…", extra={"fields": {...}})`) and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields.get() or {})
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        return _ENCODER.encode(line)


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)  # what json.dumps(…) makes


class JsonLines(logging.StreamHandler):
    """The JSON lines' handler. Records go through `emit` as with any StreamHandler; the
    busiest line of the app (one per HTTP request, `write_line`) is written to the stream
    directly, without a `LogRecord`, and the stream is flushed at most every FLUSH_SECONDS
    on the running event loop instead of after each line (a flush is a system call and lets
    another thread take the GIL). A stream that flushes itself per line (stderr) still does;
    anything that logs through `emit`, and the interpreter's exit, flush at once."""

    FLUSH_SECONDS = 0.05

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self._flush_on: asyncio.AbstractEventLoop | None = None  # a flush is scheduled there

    def write_line(self, line: str) -> None:
        try:
            with self.lock:  # type: ignore[union-attr]  # (created by Handler.__init__)
                self.stream.write(line + "\n")
        except Exception:  # as `emit` does: reported on stderr, the request goes on
            self.handleError(logging.makeLogRecord({"msg": line}))
            return
        pending = self._flush_on
        if pending is not None and not pending.is_closed():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a thread of the pool, a script: now
            self.flush()
            return
        self._flush_on = loop
        loop.call_later(self.FLUSH_SECONDS, self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_on = None
        with contextlib.suppress(Exception):  # a stream closed since (configure again)
            self.flush()


_handler: JsonLines | None = None


def configure(level: str | None = None, stream: Any = None) -> logging.Logger:
    """Send the `orgportal` loggers' records, at `level` (default LOG_LEVEL) and above, to
    `stream` (default stderr) as JSON lines. Idempotent: each backend worker calls it at
    start-up (a lifespan task), after the server configured its own logging."""
    global _handler
    from orgportal.config import settings

    logger = logging.getLogger(LOGGER)
    if _handler is not None:
        logger.removeHandler(_handler)
        with contextlib.suppress(Exception):
            _handler.flush()
    _handler = JsonLines(stream or sys.stderr)
    logger.addHandler(_handler)
    logger.setLevel((level or settings.log_level).upper())
    logger.propagate = False  # the server's own (plain-text) handlers would repeat it
    logger.disabled = False
    return logger


def direct_writer(logger: logging.Logger) -> JsonLines | None:
    """The handler `logger`'s lines may be written to directly (`JsonLines.write_line`):
    only when `configure` set it up and nothing else would see the record (no other handler
    or filter on the way, e.g. a test's own). None: log through `logging`."""
    handler = _handler
    parent = logger.parent
    if (
        handler is None
        or logger.handlers
        or logger.filters
        or logger.disabled
        or not logger.propagate
        or parent is None
        or parent.name != LOGGER
        or parent.handlers != [handler]
        or parent.filters
        or parent.propagate
        or handler.filters
    ):
        return None
    return handler


_second: tuple[int, str] = (-1, "")  # (a second, its time as text): made once per second


def timestamp(created: float) -> str:
    """`created` (time.time()) as `JsonFormatter` writes it: ISO 8601, milliseconds, UTC."""
    global _second
    second, micros = divmod(round(created * 1_000_000), 1_000_000)
    known = _second  # read once: another thread may replace it meanwhile
    if known[0] != second:
        text = datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")
        known = _second = (second, text.removesuffix("+00:00"))
    return f"{known[1]}.{micros // 1000:03d}+00:00"


def json_line(head: dict[str, Any], fields: dict[str, Any], tail: dict[str, Any]) -> str:
    """What `JsonFormatter` writes for a record whose time, level, logger and message are
    `head`, made while the request `fields` were bound, carrying `tail` as its own fields."""
    return _ENCODER.encode({**head, **fields, **tail})
