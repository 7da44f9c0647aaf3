"""The live-update bus: "organization N's <topic> changed", heard by every backend worker.

Topics name what to refresh (`usage` bars, `tickets` lists). In one process an in-memory
fan-out; with REDIS_URL, Redis pub/sub, so that a change made in any worker (or another
process) reaches the pages connected to every other worker.

Redis may stop, freeze or restart (SPEC §18). Then a publish gives up within a second
(short timeouts, no retry back-off), so no request waits on it, and a subscription never
dies: it notices the loss at once when the connection breaks, or within PONG_WITHIN seconds
when Redis stops answering (it pings when the channel is quiet), yields the `LOST` marker
so the worker can act on it (caches off, pages told to reconnect), and subscribes again
every RETRY_EVERY seconds until Redis answers. `RedisBus.available` says whether this
process's subscription currently hears Redis.
"""

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable
from functools import cache
from typing import Protocol

log = logging.getLogger(__name__)
CHANNEL = "orgportal:live"
Change = tuple[str, int]  # (topic, organization id)
# Yielded by a subscription, as ("bus_lost", 0), when it lost Redis: changes may have been
# missed until it is back. No page follows it (state/live.py), so no push is made for it.
LOST = "bus_lost"


class LiveBus(Protocol):
    def publish(self, changes: Iterable[Change]) -> None: ...

    def subscribe(self) -> AsyncIterator[set[Change]]: ...


class InProcessBus:
    """Subscribers are asyncio queues; publish is safe from any thread."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Change]]] = []
        self._lock = threading.Lock()

    def publish(self, changes: Iterable[Change]) -> None:
        unique = set(changes)
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            for change in unique:
                loop.call_soon_threadsafe(queue.put_nowait, change)

    async def subscribe(self) -> AsyncIterator[set[Change]]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.append(entry)
        try:
            while True:
                yield await _drain(queue)
        finally:
            with self._lock:
                self._subscribers.remove(entry)


class RedisBus:
    """Redis pub/sub: one publishing connection per process, one subscriber per worker."""

    TIMEOUT = 1.0  # seconds: connecting, and a publish's answer
    PING_AFTER = 1.0  # a subscription quiet this long pings Redis…
    PONG_WITHIN = 2.0  # …and, without an answer this long, counts Redis as lost
    RETRY_EVERY = 0.5  # seconds between attempts to subscribe again
    WARN_EVERY = 60.0  # at most one failed-publish warning (with its traceback) a minute

    def __init__(self, url: str) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        # No retry and short timeouts: a frozen or absent Redis costs a request at most ~1 s.
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=self.TIMEOUT,
            socket_connect_timeout=self.TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            client_name="orgportal-live",
        )
        self._lost_since: float | None = None  # monotonic; None while subscriptions hear Redis
        self._last_warning = float("-inf")

    @property
    def available(self) -> bool:
        """False from the moment a subscription of this process lost Redis until one of them
        is subscribed again (True in a process that never subscribed)."""
        return self._lost_since is None

    def publish(self, changes: Iterable[Change]) -> None:
        unique = sorted(set(changes))
        if unique:
            try:
                self._client.publish(CHANNEL, json.dumps(unique))
            except Exception:  # a lost live update must never fail the user's action
                now = time.monotonic()
                if now - self._last_warning >= self.WARN_EVERY:
                    self._last_warning = now
                    log.warning("could not publish live changes %s", unique, exc_info=True)

    async def subscribe(self) -> AsyncIterator[set[Change]]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        task = asyncio.create_task(self._pump(queue), name="live-bus-subscription")
        try:
            while True:
                yield await _drain(queue)
        finally:
            task.cancel()

    async def _pump(self, queue: asyncio.Queue[Change]) -> None:
        """Subscribe, hand each message to `queue`; on any loss put LOST there and subscribe
        again, forever (until cancelled)."""
        while True:
            try:
                await self._listen(queue)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._lost_since is None:
                    self._lost_since = time.monotonic()
                    log.warning("live bus: Redis lost (%s); subscribing again", _why(exc))
                queue.put_nowait((LOST, 0))
            await asyncio.sleep(self.RETRY_EVERY)

    async def _listen(self, queue: asyncio.Queue[Change]) -> None:
        import redis.asyncio as aioredis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = aioredis.Redis.from_url(
            self.url,
            socket_connect_timeout=self.TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # the loop above reconnects, never redis-py itself
            client_name="orgportal-live-subscriber",
        )
        pubsub = client.pubsub()
        try:
            await asyncio.wait_for(pubsub.subscribe(CHANNEL), self.PONG_WITHIN)
            subscribed = False
            heard = asking = time.monotonic()
            pinged = False
            while True:
                message = await pubsub.get_message(timeout=self.PING_AFTER / 2)
                now = time.monotonic()
                if message is not None:
                    heard, pinged = now, False
                    kind = message.get("type")
                    if kind == "subscribe" and not subscribed:
                        subscribed = True
                        self._subscribed()
                    elif kind == "message":
                        for topic, organization_id in json.loads(message["data"]):
                            queue.put_nowait((str(topic), int(organization_id)))
                    continue
                if not subscribed and now - asking > self.PONG_WITHIN:
                    raise TimeoutError("Redis did not confirm the subscription")
                if pinged and now - asking > self.PONG_WITHIN:
                    raise TimeoutError(f"no answer from Redis in {self.PONG_WITHIN:g} s")
                if subscribed and not pinged and now - heard >= self.PING_AFTER:
                    await asyncio.wait_for(pubsub.ping(), self.TIMEOUT)
                    pinged, asking = True, now
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), self.TIMEOUT)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), self.TIMEOUT)

    def _subscribed(self) -> None:
        if self._lost_since is not None:
            log.warning(
                "live bus: Redis is back after %.1f s", time.monotonic() - self._lost_since
            )
            self._lost_since = None


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _drain(queue: asyncio.Queue[Change]) -> set[Change]:
    """Wait for one change, then take whatever else is queued: a burst is pushed once."""
    ids = {await queue.get()}
    while not queue.empty():
        ids.add(queue.get_nowait())
    return ids


@cache
def bus() -> LiveBus:
    from orgportal.config import settings

    return RedisBus(settings.redis_url) if settings.redis_url else InProcessBus()
