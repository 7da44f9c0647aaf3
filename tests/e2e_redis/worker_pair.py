"""Two uvicorn workers of one ASGI app on one scratch PostgreSQL database and one Redis,
and this test process acting as a third: what the cache-invalidation tests share
(`test_api_cache_workers.py`, `test_redirect_workers.py`).

Each worker keeps its own caches; a change must reach the other through the live bus.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import SQLModel

from orgportal import db
from orgportal.adapters.live import RedisBus
from tests.conftest import scratch_postgres_database
from tests.e2e.conftest import ROOT
from tests.e2e_redis.conftest import POSTGRES
from tests.processes import answers, free_port, start, stop

BUS_LATENCY = 1.0  # seconds: the most a change may stay unseen by another worker


@contextmanager
def scratch_database(redis_url: str) -> Iterator[tuple[str, Engine]]:
    """A PostgreSQL database with every table, and `redis_url`'s database emptied (the test
    is skipped when Redis is not running). The engine is disposed of before the workers
    start; the database is dropped afterwards."""
    try:
        redis.Redis.from_url(redis_url).flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    with scratch_postgres_database(POSTGRES) as url:
        engine = db.make_engine(url)
        SQLModel.metadata.create_all(engine)
        try:
            yield url, engine
        finally:
            engine.dispose()


@contextmanager
def two_workers(
    app: str, *, url: str, redis_url: str, tmp: Path, ready_path: str, **settings: str
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Workers A and B: `uvicorn <app> --factory` each, on the database and the Redis, with
    a generous API rate limit and `settings` as extra environment; clients that never
    follow redirects."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp / "data"),
        "API_RATE_LIMIT": "100000",
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
    processes: list[subprocess.Popen] = []
    clients: list[httpx.Client] = []
    try:
        for name in "ab":
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            processes.append(start(
                [*command, "--port", str(port), "--log-level", "warning"],
                env=env, cwd=ROOT, log=tmp / f"worker-{name}.log",
                ready=answers(base, ready_path), interval=0.2, what=f"worker {name}",
            ))  # fmt: skip
            clients.append(httpx.Client(base_url=base, timeout=10, follow_redirects=False))
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.close()
        for process in processes:
            stop(process, timeout=10)


@contextmanager
def as_third_worker(url: str, redis_url: str, monkeypatch) -> Iterator[None]:
    """Changes made in this test process commit to the workers' database and are announced
    on their Redis, as a third worker's would be."""
    engine = db.make_engine(url)
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(db, "bus", lambda: RedisBus(redis_url))
    try:
        yield
    finally:
        engine.dispose()


def seconds_until(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until `condition()` holds, polling every 20 ms (fails after `timeout`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "never happened"
        time.sleep(0.02)
    return time.monotonic() - started
