"""Per-worker caches kept exact by the live bus: what a drop removes, the
read-then-change race, the heartbeat that switches caches off when the bus goes quiet, and
a change published by another worker reaching this one's cache."""

import asyncio
import threading
import time

import pytest

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.adapters.live import InProcessBus


@pytest.fixture
def cache(monkeypatch) -> worker_cache.WorkerCache[int, str]:
    """A cache whose worker hears the bus (as if its heartbeat had just come back)."""
    worker_cache.clear()
    monkeypatch.setattr(worker_cache._registry, "heard", time.monotonic() + 3600)
    return worker_cache.WorkerCache("test", ttl=60)


def test_a_value_goes_with_the_changes_it_is_tagged_with_and_only_those(cache):
    cache.put(1, "one", tags=[("usage", 1)], token=worker_cache.token())
    cache.put(2, "two", tags=[("usage", 2), ("access", 2)], token=worker_cache.token())
    worker_cache.drop_local([("access", 2), ("usage", 3)])
    assert cache.get(1) == "one"
    assert cache.get(2) is None


def test_a_value_read_before_a_change_is_not_kept_after_it(cache):
    token = worker_cache.token()  # the reader starts reading…
    worker_cache.drop_local([("usage", 1)])  # …a change commits meanwhile…
    cache.put(1, "read before the change", tags=[("usage", 1)], token=token)
    assert cache.get(1) is None  # …so what it read is not kept
    cache.put(1, "read after", tags=[("usage", 1)], token=worker_cache.token())
    assert cache.get(1) == "read after"


def test_a_change_elsewhere_does_not_refuse_a_value(cache):
    token = worker_cache.token()
    worker_cache.drop_local([("usage", 2)])
    cache.put(1, "one", tags=[("usage", 1)], token=token)
    assert cache.get(1) == "one"


def test_values_expire_and_a_shorter_lifetime_wins(cache):
    cache.put(1, "one", tags=[], token=worker_cache.token(), ttl=0.05)
    assert cache.get(1) == "one"
    time.sleep(0.1)
    assert cache.get(1) is None
    cache.put(2, "gone already", tags=[], token=worker_cache.token(), ttl=-1)
    assert cache.get(2) is None


def test_nothing_is_served_or_kept_while_the_bus_is_not_heard(cache, monkeypatch):
    cache.put(1, "one", tags=[], token=worker_cache.token())
    monkeypatch.setattr(worker_cache._registry, "heard", time.monotonic() - 60)
    assert not worker_cache.is_live()
    assert cache.get(1) is None
    cache.put(2, "two", tags=[], token=worker_cache.token())
    monkeypatch.setattr(worker_cache._registry, "heard", time.monotonic())
    assert cache.get(1) == "one" and cache.get(2) is None


def test_a_change_published_by_another_worker_drops_the_value_within_a_second(monkeypatch):
    """The listener hears its own heartbeat (caches on), then a change published from
    another thread, as another worker's commit would arrive, empties the entry."""
    bus = InProcessBus()
    monkeypatch.setattr(db, "bus", lambda: bus)
    worker_cache.clear()
    cache: worker_cache.WorkerCache[int, str] = worker_cache.WorkerCache("test", ttl=60)

    async def scenario() -> float:
        worker_cache.ensure_listening(db.bus)
        await _until(worker_cache.is_live)
        cache.put(7, "old usage", tags=[("usage", 7)], token=worker_cache.token())
        assert cache.get(7) == "old usage"
        started = time.monotonic()
        threading.Thread(target=bus.publish, args=([("usage", 7)],)).start()
        await _until(lambda: cache.get(7) is None)
        return time.monotonic() - started

    try:
        assert asyncio.run(scenario()) < 1.0
    finally:
        worker_cache.clear()
    assert not worker_cache.is_live()  # the listener stopped with its loop: caches off


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)
