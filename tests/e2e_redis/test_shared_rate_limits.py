"""SPEC §11: with REDIS_URL every rate limit is counted in Redis, so the app's two backend
workers together allow an API key API_RATE_LIMIT requests, not twice that.

Each request goes on a new connection (Granian hands connections, not requests, to its
workers), and the test asks the kernel which process holds the server side of it, so it
knows that both workers served enough requests to let 2 × the limit through if each
counted alone.
"""

import http.client
import subprocess
import sys
import textwrap
from collections import Counter
from urllib.parse import urlsplit

import psutil

from tests.e2e.conftest import ROOT
from tests.e2e_redis.conftest import API_RATE_LIMIT


def test_two_workers_share_one_api_rate_limit(base_url: str, app_env: dict[str, str]):
    key = create_api_key(app_env)
    port = urlsplit(base_url).port
    assert port
    statuses: Counter[int] = Counter()
    served_by: Counter[int] = Counter()
    for _ in range(300):
        status, pid = request_on_new_connection(port, key)
        statuses[status] += 1
        served_by[pid] += 1
        if len(served_by) >= 2 and min(served_by.values()) > API_RATE_LIMIT:
            break
    assert len(served_by) == 2, f"one worker served every request: {served_by}"
    assert min(served_by.values()) > API_RATE_LIMIT, served_by
    assert statuses[200] == API_RATE_LIMIT, statuses
    assert statuses[429] == sum(served_by.values()) - API_RATE_LIMIT, statuses


def request_on_new_connection(port: int, key: str) -> tuple[int, int]:
    """GET /api/organizations on a fresh connection: (status, pid of the serving worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/organizations", headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        response.read()
        assert conn.sock is not None  # kept alive: the worker still holds its end
        pid = _server_pid(port, conn.sock.getsockname()[1])
        return response.status, pid
    finally:
        conn.close()


def _server_pid(port: int, client_port: int) -> int:
    for c in psutil.net_connections(kind="tcp"):
        if c.pid and c.laddr and c.raddr and c.laddr.port == port and c.raddr.port == client_port:
            return c.pid
    raise AssertionError(f"no process holds the server side of 127.0.0.1:{client_port}")


def create_api_key(app_env: dict[str, str]) -> str:
    """A user and an API key, made in another process on the app's database."""
    code = textwrap.dedent(
        """
        from orgportal.db import unit_of_work
        from orgportal.services import accounts, api_keys

        with unit_of_work() as session:
            form = accounts.Registration(
                "limits@example.com", "correct horse battery", "Rate", "Limit"
            )
            user = accounts.register(session, form, confirmed=True)
            raw, _ = api_keys.create_key(
                session, user=user, name="limits", active_org_id=None,
                password="correct horse battery",
            )
        print(raw)
        """
    )
    env = {**app_env, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]
