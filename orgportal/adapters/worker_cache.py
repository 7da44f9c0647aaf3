"""Per-worker caches kept exact by the live bus.

A `WorkerCache` holds values read from the database in this process only. Each value is
stored with the live-bus changes that make it wrong (its *tags*, e.g. `("usage", 7)`), and
is dropped:

- in the worker that commits the change, synchronously, inside `unit_of_work` right after
  the commit (`drop_local`), before the change is even published;
- in every other worker when the change arrives on the bus (`listen`, started lazily by the
  first request that uses a cache, so every process serving the API has it: a Reflex
  worker, or a plain uvicorn running `build_api()`).

Two races are closed on purpose:

- *read, then a change, then store*: a reader takes a `token()` before it reads, and `put`
  refuses the value if any of its tags (or everything) was dropped after that token, so a
  value read before a change can never be stored after the change was announced;
- *a lost announcement*: values are served only while this worker hears its own heartbeat
  on the bus (every HEARTBEAT seconds). A silence longer than DEAF_AFTER (Redis gone, or a
  subscription that reconnected and may have missed messages) empties every cache and
  serves none until the heartbeat is heard again. When the subscription itself reports the
  loss (`live.LOST`: the connection to Redis broke, or Redis stopped answering its ping),
  the caches empty and go off at once, without waiting for the silence. Each value also
  has a time to live, the last resort for a change written outside the services (a manual
  SQL fix).
"""

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from orgportal.adapters import metrics
from orgportal.adapters.live import LOST

log = logging.getLogger(__name__)
Change = tuple[str, int]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

HEARTBEAT_TOPIC = "worker_cache_heartbeat"  # no page follows it (state/live.py): ignored there
HEARTBEAT = 0.5  # seconds between this worker's heartbeats
DEAF_AFTER = 3.0  # no own heartbeat heard for this long: the bus may have lost messages
RESTART_AFTER = 5.0  # a listener deaf this long is started again (a subscription that died)
MAX_TRACKED = 50_000  # tags remembered before everything is dropped at once (memory bound)


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    expires: float  # time.monotonic()


class _Registry:
    """What all caches of the process share: the drop clock, tags, and the bus listener."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clock = 0  # +1 on every drop
        self.dropped_at: dict[Change, int] = {}
        self.cleared_at = 0  # the clock when everything was last dropped
        self.holders: dict[Change, set[tuple[WorkerCache[Any, Any], Hashable]]] = defaultdict(set)
        self.caches: list[WorkerCache[Any, Any]] = []
        self.heard = float("-inf")  # monotonic time of the last own heartbeat heard
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self.started = float("-inf")

    def live(self) -> bool:
        return time.monotonic() - self.heard < DEAF_AFTER

    def drop(self, changes: Iterable[Change]) -> None:
        with self.lock:
            self.clock += 1
            for change in changes:
                self.dropped_at[change] = self.clock
                for cache, key in self.holders.pop(change, ()):
                    cache._items.pop(key, None)
            if len(self.dropped_at) > MAX_TRACKED:
                self._clear()

    def clear(self) -> None:
        with self.lock:
            self.clock += 1
            self._clear()

    def _clear(self) -> None:
        self.cleared_at = self.clock
        self.dropped_at.clear()
        self.holders.clear()
        for cache in self.caches:
            cache._items.clear()


_registry = _Registry()


class WorkerCache(Generic[K, V]):
    """Values of one kind (usage by organization, callers by key…), this worker only."""

    def __init__(self, name: str, ttl: float, max_items: int = 10_000) -> None:
        self.name, self.ttl, self.max_items = name, ttl, max_items
        self._items: dict[K, _Entry[V]] = {}
        _registry.caches.append(self)

    def get(self, key: K) -> V | None:
        """The cached value, or None: never cached, dropped, expired, or the bus is deaf."""
        entry = self._items.get(key)
        if entry is None or entry.expires <= time.monotonic() or not _registry.live():
            metrics.cache_lookup(self.name, hit=False)
            return None
        metrics.cache_lookup(self.name, hit=True)
        return entry.value

    def put(
        self,
        key: K,
        value: V,
        *,
        tags: Iterable[Change],
        token: int,
        ttl: float | None = None,
    ) -> None:
        """Keep `value` (read after `token()` was taken) unless one of `tags` was dropped since
        then; `ttl` may shorten the cache's own (a value known to change at some time)."""
        tags = list(tags)
        lifetime = self.ttl if ttl is None else min(ttl, self.ttl)
        with _registry.lock:
            stale = _registry.cleared_at > token or any(
                _registry.dropped_at.get(tag, 0) > token for tag in tags
            )
            if stale or lifetime <= 0 or not _registry.live():
                return
            if len(self._items) >= self.max_items:
                self._items.clear()  # the holders' leftovers only cost a spurious drop
            self._items[key] = _Entry(value, time.monotonic() + lifetime)
            for tag in tags:
                _registry.holders[tag].add((self, key))
            if len(_registry.holders) > MAX_TRACKED:
                _registry._clear()


def token() -> int:
    """Take before reading what you will `put`: later drops then refuse the value."""
    return _registry.clock


def drop_local(changes: Iterable[Change]) -> None:
    """Forget every value tagged with one of `changes`, in this worker (db.unit_of_work calls
    this right after each commit; the bus listener for other workers' commits)."""
    _registry.drop(changes)


def is_live() -> bool:
    """Does this worker hear the bus (so caches serve)? For tests and diagnostics."""
    return _registry.live()


def clear() -> None:
    """Forget everything (tests; a listener that lost the bus)."""
    _registry.clear()


def ensure_listening(bus: Callable[[], object]) -> None:
    """Start this worker's bus listener on the running event loop unless it runs already.
    `bus` gives the live-update bus to hear (`db.bus`; the caller passes it, so this adapter
    does not import the database module that imports it).

    Called by the request paths that use a cache, so no lifespan wiring is needed; until the
    listener hears its first heartbeat, caches serve nothing (and store nothing)."""
    loop = asyncio.get_running_loop()
    task = _registry.task
    if _registry.loop is loop and task is not None and not task.done():
        now = time.monotonic()
        if _registry.live() or now - max(_registry.heard, _registry.started) < RESTART_AFTER:
            return
        task.cancel()  # deaf for long: its subscription is gone; subscribe again
    _registry.loop, _registry.started = loop, time.monotonic()
    _registry.task = loop.create_task(listen(bus), name="worker-cache-listener")


async def listen(bus_of: Callable[[], object]) -> None:
    """Drop cached values as changes arrive from any worker; publish heartbeats meanwhile."""
    bus = bus_of()
    if not hasattr(bus, "subscribe"):
        return  # a bus that only records (tests): caches stay off
    me = secrets.randbelow(2**31 - 1) + 1
    beats = asyncio.get_running_loop().create_task(_heartbeats(bus, me))
    try:
        async for changes in bus.subscribe():
            lost = any(topic == LOST for topic, _ in changes)
            mine = (HEARTBEAT_TOPIC, me) in changes
            _registry.drop(c for c in changes if c[0] not in (HEARTBEAT_TOPIC, LOST))
            if lost:  # messages may be missed from now on: off until our heartbeat is back
                _registry.heard = float("-inf")
                _registry.clear()
            elif mine:
                _heard()
    except Exception:
        log.exception("worker cache listener stopped: caches are off until it restarts")
    finally:
        beats.cancel()
        _registry.heard = float("-inf")
        _registry.clear()


def _heard() -> None:
    """Our own heartbeat came back: the bus works. After a silence, messages may have been
    lost in it, so everything cached before goes."""
    now = time.monotonic()
    if now - _registry.heard >= DEAF_AFTER:
        _registry.clear()
    _registry.heard = now


async def _heartbeats(bus: Any, me: int) -> None:
    while True:
        with contextlib.suppress(Exception):  # a failed beat is a silence: caches go off
            await asyncio.to_thread(bus.publish, [(HEARTBEAT_TOPIC, me)])
        await asyncio.sleep(HEARTBEAT)
