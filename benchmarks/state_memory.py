"""How much does each open tab cost? Reflex state in Redis per tab, and a worker's memory.

Starts its own redis-server (a free port), then the real app (`make run`, one worker, a
temporary SQLite database) and the bare Reflex app (benchmarks/floor_app: one state var),
in the same run, and opens pages with Socket.IO clients exactly like the browser does
(signed-in cookie, hydrate + the page's load event: see benchmarks/usage_live.py).

(a) State size: for each main page, one new tab (its own client token) of a small
    organization's Owner (3 members, 2 invites, 10 links) and one of a big one's (default
    1,000 members, 100 invites, 10,000 links); once the page is quiet, the bytes of every
    Redis key of that token (Reflex stores each touched state under `<token>_<state>`).
    The bare page is measured the same way. Prints per page: small, big, big/small and
    big/bare (targets: independent of the organization's size, and <= 2x the bare page).
(b) Worker memory: --tabs tabs (spread over the pages) of the big organization connect,
    then close; the worker's RSS after each, for --rounds rounds, and the tabs the worker
    still follows for live updates (`orgportal_live_tabs` of /metrics) once they closed.
    Target: no growth from round to round once the tabs have closed.

    .venv/bin/python benchmarks/state_memory.py [--members 1000 --links 10000]
        [--tabs 1000 --rounds 3] [--keys]   # --keys: the bytes of each state, per page
    .venv/bin/python benchmarks/state_memory.py --tabs 0   # (a) only
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil
import redis
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from usage_live import HYDRATE, Floor, Orgportal, free_port  # noqa: E402

from tests import processes  # noqa: E402

PAGES = (
    "/organization",
    "/organization/members",
    "/organization/settings",
    "/organization/billing",
    "/links",
    "/files",
    "/tickets",
    "/analytics",
)
QUIET = 1.0  # seconds without a frame: the page's load has finished
METRICS_TOKEN = "state-memory-benchmark"


class Tab:
    """One open page: a Socket.IO client like the browser's, with its own client token."""

    def __init__(self, base: str, path: str, cookie: str):
        self.base, self.path, self.cookie = base, path, cookie
        self.token = str(uuid.uuid4())
        self.client = socketio.AsyncClient(reconnection=False)
        self.last_frame = 0.0
        self.frames = 0
        self.client.on("event", self._on_event, namespace="/_event")

    async def _on_event(self, _data) -> None:
        self.frames += 1
        self.last_frame = time.monotonic()

    async def open(self) -> None:
        from orgportal.routes import SESSION_COOKIE

        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        path = self.path.rstrip("/") + "/"
        await self.client.connect(
            f"{self.base}?token={self.token}",
            transports=["websocket"],
            namespaces=["/_event"],
            socketio_path="/_event",
            headers=headers,
            wait_timeout=60,  # a busy worker accepts the namespace after python-socketio's 1 s
            auth={
                "event": {
                    "name": HYDRATE,
                    "payload": {},
                    "router_data": {"pathname": path, "asPath": path, "query": {}},
                }
            },
        )

    def quiet(self) -> bool:
        return self.frames > 0 and time.monotonic() - self.last_frame > QUIET

    async def close(self) -> None:
        await self.client.disconnect()


async def until_quiet(tabs: list[Tab], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(tab.quiet() for tab in tabs):
        if time.monotonic() > deadline:
            raise SystemExit(f"{sum(not t.quiet() for t in tabs)} tabs never finished loading")
        await asyncio.sleep(0.1)


def stored(r: redis.Redis, token: str) -> dict[str, int]:
    """State name → bytes stored in Redis for this client token."""
    sizes = {}
    for key in r.scan_iter(match=f"{token}_*", count=1000):
        name = key.decode().split("_", 1)[1]
        sizes[name] = r.strlen(key)
    return sizes


async def one_tab(base: str, path: str, cookie: str, r: redis.Redis) -> dict[str, int]:
    tab = Tab(base, path, cookie)
    await tab.open()
    await until_quiet([tab])
    sizes = stored(r, tab.token)
    await tab.close()
    return sizes


# --- worker memory ------------------------------------------------------------------------


def worker_processes(proc: subprocess.Popen) -> list[psutil.Process]:
    """The app's backend worker(s): the leaves of its process tree that run Python."""
    tree = psutil.Process(proc.pid).children(recursive=True)
    return [p for p in tree if not p.children() and "python" in p.name().lower()] or [
        p for p in tree if not p.children()
    ]


def rss_mib(workers: list[psutil.Process]) -> float:
    return sum(w.memory_info().rss for w in workers) / 2**20


def live_tabs(base: str) -> str:
    """The worker's live registrations (`orgportal_live_tabs`), from /metrics."""
    try:
        text = httpx.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
        ).text
    except httpx.HTTPError:
        return "?"
    found = re.findall(r"^orgportal_live_tabs(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
    return f"{sum(float(v) for v in found):,.0f}" if found else "?"


async def rounds(base: str, cookie: str, workers, tabs: int, count: int, r: redis.Redis):
    rows = [("start", rss_mib(workers), live_tabs(base), r.dbsize())]
    for n in range(1, count + 1):
        opened = [Tab(base, PAGES[i % len(PAGES)], cookie) for i in range(tabs)]
        for start in range(0, tabs, 25):  # small waves, as real visitors arrive
            await asyncio.gather(*(t.open() for t in opened[start : start + 25]))
        await until_quiet(opened, timeout=600)
        rows.append((f"round {n}: {tabs} tabs open", rss_mib(workers), live_tabs(base), r.dbsize()))
        for start in range(0, tabs, 100):
            await asyncio.gather(*(t.close() for t in opened[start : start + 100]))
        del opened
        # the worker notices the closed sockets, and sweeps their live registrations
        # (orgportal/state/live.py SWEEP_EVERY, 10 s)
        await asyncio.sleep(12)
        rows.append((f"round {n}: closed", rss_mib(workers), live_tabs(base), r.dbsize()))
    return rows


# --- main -----------------------------------------------------------------------------------


def seed(members: int, invites: int, links: int) -> dict[str, str]:
    from seed_big_org import seed_organization

    from orgportal.db import unit_of_work
    from orgportal.services import accounts

    cookies = {}
    for label, size in (("small", (3, 2, 10)), ("big", (members, invites, links))):
        with unit_of_work() as session:
            owner, org = seed_organization(
                session, name=f"{label} org", members=size[0], invites=size[1], links=size[2]
            )
            ticket = accounts.issue_sign_in_ticket(session, owner, org.id, browser="bench")
        with unit_of_work() as session:
            cookies[label], _ = accounts.open_session(session, ticket, browser="bench")
    return cookies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--invites", type=int, default=100)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--tabs", type=int, default=1000, help="(b): tabs per round; 0: skip")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", action="store_true", help="print each state's bytes")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="state-memory-"))
    redis_port, port = free_port(), free_port()
    redis_proc = processes.start(
        ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        ready=processes.listening(redis_port),
        log=tmp / "redis.log",
        cwd=tmp,
        timeout=20,
        what="redis-server",
    )
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "REDIS_URL": redis_url,
        "GRANIAN_WORKERS": "1",
        "REFLEX_REDIS_MAX_CONNECTIONS": "64",
        "METRICS_TOKEN": METRICS_TOKEN,
        "METRICS_ALLOWED_ADDRESSES": "127.0.0.1/32,::1/128",
    }
    os.environ.update(env)
    r = redis.Redis.from_url(redis_url)
    try:
        with Floor(env, tmp) as base:
            bare = asyncio.run(one_tab(base, "/", "", r))
        r.flushdb()
        app = Orgportal(env, tmp)
        with app as base:
            cookies = seed(args.members, args.invites, args.links)
            asyncio.run(one_tab(base, "/organization", cookies["small"], r))  # warm up
            sizes = {
                (label, path): asyncio.run(one_tab(base, path, cookies[label], r))
                for path in PAGES
                for label in ("small", "big")
            }
            memory = []
            if args.tabs:
                workers = worker_processes(app.proc)
                memory = asyncio.run(
                    rounds(base, cookies["big"], workers, args.tabs, args.rounds, r)
                )
    finally:
        processes.stop(redis_proc, timeout=10)

    bare_total = sum(bare.values())
    print(
        f"(a) Reflex state stored in Redis per tab; big organization: {args.members:,} members, "
        f"{args.invites:,} invites, {args.links:,} links"
    )
    print(f"bare Reflex page (floor_app /): {bare_total:,} bytes in {len(bare)} keys")
    if args.keys:
        for name, size in sorted(bare.items(), key=lambda kv: -kv[1]):
            print(f"      {size:8,}  {name}")
    print(f"{'page':24} {'small':>9} {'big':>9} {'big/small':>9} {'big/bare':>9} {'keys':>5}")
    for path in PAGES:
        small, big = sizes[("small", path)], sizes[("big", path)]
        s, b = sum(small.values()), sum(big.values())
        print(
            f"{path:24} {s:9,} {b:9,} {b / max(1, s):8.2f}x {b / max(1, bare_total):8.2f}x "
            f"{len(big):5}"
        )
        if args.keys:
            for name, size in sorted(big.items(), key=lambda kv: -kv[1]):
                print(f"      {small.get(name, 0):8,} {size:9,}  {name}")
    if memory:
        print(f"(b) one worker's RSS, {args.tabs:,} tabs per round (the big organization's Owner)")
        print(f"{'when':32} {'RSS':>10} {'live tabs':>10} {'Redis keys':>11}")
        for when, rss, tabs, keys in memory:
            print(f"{when:32} {rss:7.1f} MiB {tabs:>10} {keys:11,}")


if __name__ == "__main__":
    main()
