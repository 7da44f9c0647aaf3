"""The e2e fixtures again, but the app runs as it does at scale (README "Running at scale"):
two backend workers sharing Redis and PostgreSQL (SPEC §11).

Reflex then keeps state in Redis and our live bus uses Redis pub/sub, so a change made in
one worker or process must reach pages connected to any worker. The database is a scratch
PostgreSQL database on the local server (TEST_DATABASE_URL's, else 127.0.0.1:5432), the
service CI runs beside Redis.
"""

import os
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import scratch_postgres_database
from tests.e2e.conftest import *  # noqa: F403  (browser, base_url, mail_dir fixtures)
from tests.e2e.conftest import MANY_ATTEMPTS
from tests.processes import free_port

REDIS_URL = "redis://127.0.0.1:6379/5"
POSTGRES = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
API_RATE_LIMIT = 5  # per key per hour: low, so test_shared_rate_limits can exhaust it


@pytest.fixture(scope="session")
def app_database() -> Iterator[str]:
    with scratch_postgres_database(POSTGRES) as url:
        yield url


@pytest.fixture(scope="session")
def app_env(tmp_path_factory, app_database) -> dict[str, str]:
    redis.Redis.from_url(REDIS_URL).flushdb()  # a database of its own, emptied
    tmp = tmp_path_factory.mktemp("app")
    port = free_port()
    return {
        "PORT": str(port),
        "DATABASE_URL": app_database,
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "REDIS_URL": REDIS_URL,
        "GRANIAN_WORKERS": "2",
        "REFLEX_REDIS_MAX_CONNECTIONS": "64",
        "API_RATE_LIMIT": str(API_RATE_LIMIT),
        "API_RATE_WINDOW_SECONDS": "3600",
        **MANY_ATTEMPTS,
    }
