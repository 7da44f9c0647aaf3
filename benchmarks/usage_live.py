"""How fast do live usage bars follow a change? N watching clients on one organization.

Starts the real app (`make run`) on a temporary SQLite database with Redis (so that this
process can make changes the way another worker would), connects N Socket.IO clients that
open /organization exactly like the browser does (signed-in cookie, hydrate + on_load),
then creates links one by one through the service layer and measures, for each change,
the time until every client has received the new count. Prints p50/p95.

    .venv/bin/python benchmarks/usage_live.py --clients 100 --changes 20 [--workers 1]
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://localhost:{env['PORT']}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            ping = httpx.get(f"{base}/ping", timeout=2)
            page = httpx.get(f"{base}/organization", timeout=5, follow_redirects=True)
            if ping.status_code == page.status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"app exited:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    raise SystemExit("app did not start")


def seed() -> tuple[str, int, object]:
    """A signed-in owner of one organization: (session cookie, organization id, owner)."""
    from orgportal.db import unit_of_work
    from orgportal.services import accounts, organizations

    with unit_of_work() as session:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        owner = accounts.register(
            session,
            accounts.Registration(email, "correct horse battery", "Bench", "Mark"),
            confirmed=True,
        )
        org = organizations.create_organization(session, user=owner, name="Benchmark Co")
        session.flush()
        ticket = accounts.issue_sign_in_ticket(session, owner, org.id, browser="benchmark")
    with unit_of_work() as session:
        raw, _ = accounts.open_session(session, ticket, browser="benchmark")
    return raw, org.id, owner


class Watcher:
    """One open organization page: remembers when each links count arrived."""

    def __init__(self, base: str, cookie: str):
        self.base, self.cookie = base, cookie
        self.client = socketio.AsyncClient(reconnection=False)
        self.seen: dict[int, float] = {}
        self.client.on("event", self.on_event, namespace="/_event")

    async def on_event(self, data) -> None:
        for state_name, values in (data.get("delta") or {}).items():
            if state_name.endswith("usage_state"):
                for key, value in values.items():
                    if key.startswith("links_used"):
                        self.seen.setdefault(int(value), time.perf_counter())

    async def connect(self) -> None:
        from orgportal.routes import SESSION_COOKIE

        await self.client.connect(
            f"{self.base}?token={uuid.uuid4()}",
            transports=["websocket"],
            namespaces=["/_event"],
            socketio_path="/_event",
            headers={"Origin": self.base, "Cookie": f"{SESSION_COOKIE}={self.cookie}"},
            auth={
                "event": {
                    "name": "reflex___state____state.hydrate_and_load",
                    "payload": {},
                    "router_data": {
                        "pathname": "/organization/",
                        "asPath": "/organization/",
                        "query": {},
                    },
                }
            },
        )


async def measure(base: str, cookie: str, org_id: int, owner, clients: int, changes: int):
    from orgportal.db import unit_of_work
    from orgportal.services import links

    watchers = [Watcher(base, cookie) for _ in range(clients)]
    for start in range(0, clients, 25):  # connect in small waves, as real visitors arrive
        await asyncio.gather(*(w.connect() for w in watchers[start : start + 25]))
    await _until(lambda: all(0 in w.seen for w in watchers), 60, "initial usage")

    to_last, per_client = [], []
    for n in range(1, changes + 1):
        started = time.perf_counter()
        await asyncio.to_thread(_create_link, unit_of_work, links, owner, org_id, n)
        await _until(lambda n=n: all(n in w.seen for w in watchers), 10, f"change {n}")
        arrivals = [w.seen[n] - started for w in watchers]
        to_last.append(max(arrivals))
        per_client.extend(arrivals)
        await asyncio.sleep(0.2)
    await asyncio.gather(*(w.client.disconnect() for w in watchers))
    return to_last, per_client


def _create_link(unit_of_work, links, owner, org_id: int, n: int) -> None:
    with unit_of_work() as session:
        links.create_link(
            session, user=owner, organization_id=org_id, target_url=f"https://example.com/{n}"
        )


async def _until(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="usage-live-"))
    port = free_port()
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "REDIS_URL": args.redis,
        "GRANIAN_WORKERS": str(args.workers),
        "REFLEX_REDIS_MAX_CONNECTIONS": "64",
    }
    os.environ.update(env)  # this process uses the same database and bus as the app
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    proc = start_app(env, tmp / "app.log")
    try:
        cookie, org_id, owner = seed()
        base = f"http://localhost:{port}"
        to_last, per_client = asyncio.run(
            measure(base, cookie, org_id, owner, args.clients, args.changes)
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"{args.clients} clients, {args.changes} changes, {args.workers} backend worker(s)")
    print(
        f"change → last client updated: p50 {percentile(to_last, 50) * 1000:.0f} ms, "
        f"p95 {percentile(to_last, 95) * 1000:.0f} ms, max {max(to_last) * 1000:.0f} ms"
    )
    print(
        f"change → each client updated: p50 {percentile(per_client, 50) * 1000:.0f} ms, "
        f"p95 {percentile(per_client, 95) * 1000:.0f} ms "
        f"(mean {statistics.mean(per_client) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
