"""Live updates: which open tabs follow which changes, and how each page is refreshed.

Services mark what they changed (`db.mark_changed(session, topic, ids)`); after the commit
the change crosses to every worker on the live bus (adapters/live.py: Redis pub/sub, or
in-process), and here each worker refreshes the tabs it serves. One mechanism for every
live page:

- A page's state declares what it follows with the `follows` decorator: its page name (a
  tab has at most one registration per page), the topics, and how the tabs watching a
  topic and key are refreshed (`refresh`; by default `reload_shown`: a state round trip
  per tab that reloads the page if the tab still shows it), optionally at most once every
  `every` seconds per topic and key (a burst becomes one refresh, with a trailing one).
  Several pages may follow one topic when they are refreshed alike (one ticket: the
  agent's page and the requester's reply page); a topic refreshed otherwise has one page.
- Its load registers the tab with `watch` (or `register`) in one table keyed by topic and
  organization (user id for the personal topics), under one lock, with whatever the
  refresh needs to know of the tab (`data`).
- `dispatch_live_updates` (a lifespan task) hands each change to its topic's refresh.

The fast path that sends one ready-made delta to many tabs at once (the usage bars) is
`state/frames.py`, the only module that uses Reflex's internals.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from starlette.concurrency import run_in_threadpool

from orgportal.adapters import metrics
from orgportal.adapters.live import LOST, bus
from orgportal.state import frames

log = logging.getLogger(__name__)

# refresh(app, topic, key): brings the tabs watching (topic, key) up to date
Refresh = Callable[[Any, str, int], Awaitable[Any]]


@dataclass(frozen=True)
class Follow:
    """A page's declaration: the topics it follows and how its tabs are refreshed."""

    page: str
    topics: tuple[str, ...]
    refresh: Refresh
    every: float = 0.0  # seconds: at most one refresh this often per (topic, key); 0: each


_FOLLOWS: dict[str, Follow] = {}  # topic → the one declaration that follows it
_PAGES: dict[type, Follow] = {}  # state class → its declaration
_lock = threading.Lock()
# (topic, organization or user id) → {client token: data}: every watching tab of this worker
_table: dict[tuple[str, int], dict[str, Any]] = {}
# (page, client token) → the (topic, key) the tab is registered under (one per page)
_where: dict[tuple[str, str], tuple[str, int]] = {}
_last_push: dict[tuple[str, int], float] = {}
_scheduled: dict[tuple[str, int], asyncio.Task] = {}


def follows(page: str, *topics: str, refresh: Refresh | None = None, every: float = 0.0):
    """Class decorator: the state's page follows `topics` (several states may make up one
    page, e.g. the ticket list and a ticket; several pages may follow a topic they are
    refreshed alike for, each tab's refresh reloading its own state)."""
    follow = Follow(page, topics or (page,), refresh or reload_shown, every)

    def declare(state_class: type) -> type:
        for topic in follow.topics:
            known = _FOLLOWS.get(topic)
            if known is None or known.page == follow.page:  # (a reload re-declares)
                _FOLLOWS[topic] = follow
            elif (known.refresh, known.every) != (follow.refresh, follow.every):
                raise ValueError(f"live topic {topic!r} is already followed by {known.page!r}")
        _PAGES[state_class] = follow
        return state_class

    return declare


def follow_of(state_class: type) -> Follow:
    for cls in state_class.__mro__:
        if cls in _PAGES:
            return _PAGES[cls]
    raise LookupError(f"{state_class.__name__} declares no live page (live.follows)")


# --- the table -------------------------------------------------------------------------


def watch(state: Any, key: int, *, topic: str = "", data: Any = None) -> None:
    """Register the state's tab for its page's `topic` (by default its first) and `key`
    (none when `key` is 0: the tab then follows nothing on this page). `data` defaults to
    the state's class."""
    follow = follow_of(type(state))
    register(
        follow.page,
        state.router.session.client_token,
        topic or follow.topics[0],
        key,
        type(state) if data is None else data,
    )


def register(page: str, token: str, topic: str, key: int, data: Any = None) -> None:
    """The tab now follows `topic` for `key` on `page`, in place of whatever it followed."""
    with _lock:
        _drop(page, token)
        if token and key:
            _table.setdefault((topic, key), {})[token] = data
            _where[(page, token)] = (topic, key)


def unwatch(page: str, token: str, topic: str | None = None, key: int | None = None) -> None:
    """The tab no longer follows anything on `page`; with `topic` and `key`, only if that is
    still what it follows (a refresh that finds a tab gone leaves its newer registration)."""
    with _lock:
        _drop(page, token, None if topic is None else (topic, key or 0))


def update(page: str, token: str, topic: str, key: int, data: Any) -> None:
    """New data for a tab, if it is still registered for `topic` and `key`."""
    with _lock:
        if _where.get((page, token)) == (topic, key):
            _table[(topic, key)][token] = data


def watchers(topic: str, key: int) -> dict[str, Any]:
    """The tabs that follow `topic` for `key` (a copy): client token → data."""
    with _lock:
        return dict(_table.get((topic, key), {}))


def keys(topic: str, where: Callable[[Any], bool]) -> list[int]:
    """The keys of `topic` that a tab follows with data matching `where`."""
    with _lock:
        return [
            key
            for (followed, key), tabs in _table.items()
            if followed == topic and any(where(data) for data in tabs.values())
        ]


def _drop(page: str, token: str, only: tuple[str, int] | None = None) -> None:
    where = _where.get((page, token))
    if where is None or (only is not None and where != only):
        return
    del _where[(page, token)]
    tabs = _table.get(where)
    if tabs is not None:
        tabs.pop(token, None)
        if not tabs:
            del _table[where]


# --- refreshing ------------------------------------------------------------------------


async def reload_shown(app: rx.App, topic: str, key: int) -> None:
    """The usual refresh: each watching tab's state (its class is the tab's data) is
    reloaded in a state round trip (authenticated again, then its `_load`) if the tab still
    shows the page (`state._still_shows(topic, key)`); otherwise the tab is dropped."""
    tabs = watchers(topic, key)
    await asyncio.gather(*(_reload(app, topic, key, t, cls) for t, cls in tabs.items()))


async def _reload(app: rx.App, topic: str, key: int, token: str, state_class: type) -> None:
    page = follow_of(state_class).page
    try:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=state_class)) as root:
            state = await root.get_state(state_class)
            if not state._still_shows(topic, key):
                unwatch(page, token, topic, key)  # that tab moved on, or its state expired
                return
            await run_in_threadpool(state._refresh)  # authenticates, then `_load`
            if not (state.signed_in or state.live_signed_out):
                unwatch(page, token, topic, key)  # signed out meanwhile
    except Exception:
        log.exception("live %s refresh failed for one client", topic)


async def push(app: rx.App, topic: str, key: int) -> None:
    """Refresh the tabs that follow `topic` for `key` (nothing if no page follows it)."""
    follow = _FOLLOWS.get(topic)
    if follow is None:
        return
    if follow.every <= 0:
        await follow.refresh(app, topic, key)
    else:
        await _coalesced(app, follow, topic, key)


async def _coalesced(app: rx.App, follow: Follow, topic: str, key: int) -> None:
    """Refresh now if the last refresh was `every` seconds ago or more; else once, that long
    after it (every change until then is included in that one refresh)."""
    slot = (topic, key)
    if slot in _scheduled:
        return
    wait = _last_push.get(slot, 0.0) + follow.every - time.monotonic()
    if wait <= 0:
        await _refresh_now(app, follow, topic, key)
        return

    async def later() -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            _scheduled.pop(slot, None)
        await _refresh_now(app, follow, topic, key)

    _scheduled[slot] = asyncio.create_task(later())


async def _refresh_now(app: rx.App, follow: Follow, topic: str, key: int) -> None:
    _last_push[(topic, key)] = time.monotonic()
    await follow.refresh(app, topic, key)


async def dispatch_live_updates(app: rx.App) -> None:
    """Lifespan task: runs as long as the worker does."""
    async for changes in bus().subscribe():
        if any(topic == LOST for topic, _ in changes):
            await drop_connections(app)
        for topic, key in sorted(changes):
            try:
                await push(app, topic, key)
            except Exception:  # one failed push must not stop the live updates
                log.exception("live %s push for %s failed", topic, key)


async def drop_connections(app: rx.App) -> int:
    """Redis is lost (SPEC §18): every page's state lives there, so no event of a page on
    this worker can run, and changes announced meanwhile are missed. Close the transport of
    each websocket of this worker, as a network cut would: the browser shows Reflex's
    connection banner and keeps reconnecting (api/gateway.py refuses websockets while this
    worker's bus is lost); once Redis is back, its reconnect hydrates the page and runs its
    load again, so it shows current data and registers for live pushes anew. (A server-side
    socket.io disconnect would not do: the page would take it as final and never come back.)
    Returns how many were closed."""
    server = app.sio
    if server is None:
        return 0
    closed = 0
    for socket in list(server.eio.sockets.values()):
        with contextlib.suppress(Exception):
            await socket.close(wait=False, abort=True)  # engine.io's own teardown…
            socket.queue.put_nowait(None)  # …and its writer closes the websocket itself
            closed += 1
    if closed:
        log.warning("live bus lost: closed %d websockets of this worker", closed)
    return closed


# Seconds between two sweeps of the tabs whose socket has closed (`forget_closed_tabs`).
SWEEP_EVERY = 10.0


def forget_closed(app: rx.App) -> int:
    """Drop every registration of a tab whose socket is no longer connected to this worker
    (the tab closed, or reconnected elsewhere: its new load registers it there anew).
    Returns how many tabs were dropped. A push also drops the closed tabs it meets, but a
    workspace that never changes would keep its closed tabs for the worker's lifetime."""
    with _lock:
        tokens = {token for _, token in _where}
    sids = frames.sockets(app, tokens)
    closed = {token for token, sid in sids.items() if sid is None}
    with _lock:
        for page, token in [where for where in _where if where[1] in closed]:
            _drop(page, token)
        metrics.LIVE_TABS.set(len(_where))
    return len(closed)


async def forget_closed_tabs(app: rx.App) -> None:
    """Lifespan task: `forget_closed` every SWEEP_EVERY seconds, so a worker's memory
    for live updates follows its open tabs, not every tab it has ever served."""
    while True:
        await asyncio.sleep(SWEEP_EVERY)
        try:
            forget_closed(app)
        except Exception:  # the next sweep tries again
            log.exception("sweeping the closed tabs failed")


def forget_all() -> None:
    """Forget every watching tab of this worker (tests: one test's tabs are not another's)."""
    with _lock:
        _table.clear()
        _where.clear()
        _last_push.clear()
        for task in _scheduled.values():
            with contextlib.suppress(RuntimeError):  # its event loop may be closed already
                task.cancel()
        _scheduled.clear()
