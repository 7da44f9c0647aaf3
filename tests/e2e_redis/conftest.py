"""The e2e fixtures again, but the app runs two backend workers sharing Redis (SPEC §11).

Reflex then keeps state in Redis and our live bus uses Redis pub/sub, so a change made in
one worker or process must reach pages connected to any worker.
"""

import pytest
import redis

from tests.e2e.conftest import *  # noqa: F403  (browser, base_url, mail_dir fixtures)
from tests.e2e.conftest import MANY_ATTEMPTS, _free_port

REDIS_URL = "redis://127.0.0.1:6379/5"
API_RATE_LIMIT = 5  # per key per hour: low, so test_shared_rate_limits can exhaust it


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> dict[str, str]:
    redis.Redis.from_url(REDIS_URL).flushdb()  # a database of its own, emptied
    tmp = tmp_path_factory.mktemp("app")
    port = _free_port()
    return {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
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
