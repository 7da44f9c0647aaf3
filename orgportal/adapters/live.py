"""The live-update bus: "organization N's <topic> changed", heard by every backend worker.

Topics name what to refresh (`usage` bars, `tickets` lists). In one process an in-memory
fan-out; with REDIS_URL, Redis pub/sub, so that a change made in any worker (or another
process) reaches the pages connected to every other worker.
"""

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from functools import cache
from typing import Protocol

log = logging.getLogger(__name__)
CHANNEL = "orgportal:live"
Change = tuple[str, int]  # (topic, organization id)


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

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url)

    def publish(self, changes: Iterable[Change]) -> None:
        unique = sorted(set(changes))
        if unique:
            try:
                self._client.publish(CHANNEL, json.dumps(unique))
            except Exception:  # a lost live update must never fail the user's action
                log.exception("could not publish live changes %s", unique)

    async def subscribe(self) -> AsyncIterator[set[Change]]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        await pubsub.subscribe(CHANNEL)
        queue: asyncio.Queue[Change] = asyncio.Queue()

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    for topic, organization_id in json.loads(message["data"]):
                        queue.put_nowait((str(topic), int(organization_id)))

        task = asyncio.create_task(pump())
        try:
            while True:
                yield await _drain(queue)
        finally:
            task.cancel()
            await pubsub.aclose()
            await client.aclose()


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
