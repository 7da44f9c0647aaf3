"""The daily mix against two workers on PostgreSQL + Redis, and what load it sustains (SPEC §18).

Starts the real app (`make run`, GRANIAN_WORKERS=2) in a private snapshot of the checkout (its
own `.web`, so no other run's frontend build is replaced under it), on a scratch PostgreSQL
database on 127.0.0.1:5432 (dropped afterwards) and a redis-server of its own on a free port.
Accounts are seeded through the services: per virtual user an Owner with an organization on
the Unlimited plan, one short link and an API key.

Each virtual user (VU) is a browser of its own (cookie jar, tab token) that loops, with a
think time of `--think` seconds (uniform 0.5–1.5×) before every action:

- sign in: GET /login/, the page's websocket (hydrate + on_load), the sign-in event
  (`LoginState.submit`: real argon2) whose answer carries a ticket bound to the
  browser-nonce cookie, redeemed as the page's script does it (the ticket link
  GET /api/auth/session?ticket=… → 303, or POST /api/auth/session → 204),
  which sets the session cookie; then Switch Organization (`AppState.switch_workspace`)
  into its organization;
- open /organization, /organization/members and /links as full page loads (GET of the page,
  then a new websocket that hydrates and runs the page's load event, as the browser does);
- create a link with the Links page's create event over that websocket;
- follow three short links (GET /<slug> → 302);
- the REST API with its key: GET /api/organizations/{id}/usage and GET /api/links;
- after `--iterations` rounds, sign out (POST /api/auth/logout); a new browser signs in.

One VU in every `--watch-every` (default 2) also keeps a second tab open on /organization the
whole run (a watcher): after each link that VU creates, the time from the create event being
sent to the watcher's frame with the new count is the "live bar" latency (a missing frame is
an error).

A level first warms up (VUs arrive over up to 30 s and sign in; each first session starts
at a random round, so sign-ins are spread in the measured window as in a steady day), then
is measured for `--minutes`. Reports, per action: count, throughput, p50/p95/p99/max latency
and errors, plus the workers' and this process's CPU. A level passes with 0 errors (warm-up
included) and p95 < 1 s for every page action (page loads, sign in, switch, create).
`--find` doubles the VUs from `--start` while `--step-minutes` steps pass (halving while the
first fails), narrows between the last pass and the first failure, then confirms the best
level for `--minutes` (stepping down by a fifth if the confirmation fails).

Memory: each worker's resident memory (VmRSS of the granian worker processes) after the run,
then while `--visitors` distinct short-lived clients (a new token each) open /organization
(hydrate + load) and leave, at each quarter, with Redis's memory and keys: Reflex keeps each
tab's state in Redis, not in the worker, for REFLEX_REDIS_TOKEN_EXPIRATION (set here to its
default, 3600 s); the report checks that every key expires.

    .venv/bin/python benchmarks/load.py --users 5 --minutes 0.5 --visitors 200   # a short try
    .venv/bin/python benchmarks/load.py --users 20 --minutes 5                    # one level
    .venv/bin/python benchmarks/load.py --find --step-minutes 1 --minutes 5       # step up, confirm

(run from the repository root; needs PostgreSQL on 127.0.0.1:5432 as TEST_DATABASE_URL or
postgres@…/test, redis-server and the `make install` tools, as `make test` does)
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import socketio
from sqlalchemy import create_engine, text
from usage_live import HYDRATE, ROOT, Watcher, free_port, percentile, start_app, stop_app
from yarl import URL

PASSWORD = "correct horse battery"
POSTGRES = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
ROOT_STATE = "reflex___state____state"
TIMEOUT = 30.0  # seconds before an action counts as failed
LIVE_TIMEOUT = 10.0  # seconds a watcher may take to show a new count
PAGE_LIMIT_P95 = 1.0
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".web", ".states", "node_modules", "var", "uploaded_files", "__pycache__",
    "*.pyc", ".pytest_cache", ".ruff_cache", "*.egg-info", "test-results", "screenshots",
)  # fmt: skip

# Actions, in report order; PAGE_ACTIONS must stay under PAGE_LIMIT_P95 at p95.
PAGES = ("/organization/", "/organization/members/", "/links/")
PAGE_ACTIONS = (
    "page /login",
    "sign in",
    "switch workspace",
    *(f"page {p.rstrip('/')}" for p in PAGES),
    "create link (ws)",
)
OTHER_ACTIONS = (
    "follow /<slug> (302)",
    "GET /api/organizations/{id}/usage",
    "GET /api/links",
    "sign out",
    "live bar: create → watcher frame",
)
ACTIONS = PAGE_ACTIONS + OTHER_ACTIONS


# --- the stack: own Redis, a scratch PostgreSQL database, the app with two workers ---------


def snapshot_checkout(dest: Path) -> Path:
    """A copy of the working tree to run `make run` in, with `.venv` and `tools/node_modules`
    linked and the `.make` stamps touched (make must never reinstall into the shared venv).
    Its `.web` is its own: `make run` in the shared checkout rebuilds the frontend for its
    own port, which would break any other app served from there at that moment."""
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE, symlinks=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    (dest / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules")
    (dest / ".make").mkdir(exist_ok=True)
    for name in ("venv", "bun"):
        (dest / ".make" / name).touch()
    return dest


class Stack:
    """Everything the run needs, started in order and torn down in reverse."""

    def __init__(self, workers: int, keep_log: bool) -> None:
        self.workers, self.keep_log = workers, keep_log
        self.tmp = Path(tempfile.mkdtemp(prefix="orgportal-load-"))
        self.log = self.tmp / "app.log"
        self.redis_proc: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None
        self.database = ""
        self.admin = create_engine(
            POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        redis_port = free_port()
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=(self.tmp / "redis.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.database = f"orgportal_load_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        base = POSTGRES.rsplit("/", 1)[0]
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            "PORT": str(port),
            "DATABASE_URL": f"{base}/{self.database}",
            "REDIS_URL": self.redis_url,
            "GRANIAN_WORKERS": str(self.workers),
            "PUBLIC_URL": f"http://localhost:{port}",
            "MAIL_DIR": str(self.tmp / "mail"),
            "DATA_DIR": str(self.tmp / "data"),
            # Reflex keeps each tab's state in Redis for this long after its last event
            # (its default, said here so the figures name it): not in the workers' memory.
            "REFLEX_REDIS_TOKEN_EXPIRATION": "3600",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "PATH": f"{ROOT / 'tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        }
        for name in ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "TEST_DATABASE_URL"):
            os.environ.pop(name, None)
        os.environ.update(self.env)  # this process seeds the same database
        checkout = snapshot_checkout(self.tmp / "checkout")
        self.app = start_app(["make", "run"], checkout, self.env, self.log, "/login")
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < self.workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"expected {self.workers} workers, found {self.worker_pids()}")
            time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        if self.app is not None:
            with contextlib.suppress(Exception):
                stop_app(self.app)
        if self.redis_proc is not None:
            self.redis_proc.terminate()
            with contextlib.suppress(Exception):
                self.redis_proc.wait(timeout=10)
        if self.database:
            with contextlib.suppress(Exception), self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        self.admin.dispose()
        if self.keep_log and self.log.exists():
            kept = Path(tempfile.gettempdir()) / f"{self.tmp.name}.app.log"
            shutil.copy(self.log, kept)
            print(f"app log kept at {kept}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- what the machine says about the workers ---

    def worker_pids(self) -> list[int]:
        """Granian's worker processes: the `reflex run` processes whose parent is one too."""
        if self.app is None:
            return []
        parents, commands = {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                commands[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        family, grew = {self.app.pid}, True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in family and pid not in family:
                    family.add(pid)
                    grew = True
        reflex = {pid for pid in family if b"reflex" in commands.get(pid, b"")}
        return sorted(pid for pid in reflex if parents.get(pid) in reflex)

    def rss_kib(self) -> dict[int, int]:
        sizes = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1])
        return sizes

    def cpu_seconds(self) -> dict[int, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return used

    def redis_memory(self) -> tuple[int, int]:
        """(used_memory bytes, keys) of our Redis."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            return int(client.info("memory")["used_memory"]), int(client.dbsize())
        finally:
            client.close()

    def redis_expiry(self) -> tuple[int, int, int, Counter]:
        """Of all keys: (with a TTL, without one, the longest TTL in s, kinds of keys without)."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        expiring, forever, longest, kinds = 0, 0, 0, Counter()
        try:
            keys = list(client.scan_iter(count=1000))
            for start in range(0, len(keys), 1000):
                batch = keys[start : start + 1000]
                with client.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.ttl(key)
                    ttls = pipe.execute()
                for key, ttl in zip(batch, ttls, strict=True):
                    if ttl >= 0:
                        expiring, longest = expiring + 1, max(longest, ttl)
                    else:
                        forever += 1
                        kinds[re.sub(rb"[0-9a-f-]{36}.*", b"<token>", key)[:60]] += 1
        finally:
            client.close()
        return expiring, forever, longest, kinds

    def log_problems(self) -> list[str]:
        """Tracebacks and ERROR/CRITICAL lines the app printed."""
        problems = []
        if not self.log.exists():
            return problems
        for line in self.log.read_text(errors="replace").splitlines():
            if (
                '"level": "ERROR"' in line
                or '"level": "CRITICAL"' in line
                or (line.startswith("Traceback") or " ERROR " in line or "Exception in" in line)
            ):
                problems.append(line[:300])
        return problems


# --- accounts, seeded through the services -------------------------------------------------


@dataclass
class Account:
    email: str
    org_id: int
    api_key: str
    cookie: str  # a session of its own, for the watcher tab and the visitors
    slug: str
    org_ref: str  # the organization's public id, as REST paths name it


def seed_accounts(first: int, count: int) -> list[Account]:
    """`count` Owners, each with an organization on the Unlimited plan, a link, an API key
    and a signed-in session. One argon2 hash serves all (same password): seeding is not
    what is measured; signing in still verifies it for real."""
    from orgportal import security
    from orgportal.db import unit_of_work
    from orgportal.models import Subscription
    from orgportal.services import accounts, api_keys, links, organizations

    hashed = security.hash_password(PASSWORD)
    real_hash = security.hash_password
    security.hash_password = lambda password: (
        hashed if password == PASSWORD else real_hash(password)
    )
    made = []
    run = uuid.uuid4().hex[:6]
    try:
        for n in range(first, first + count):
            email = f"vu{n}-{run}@example.com"
            with unit_of_work() as session:
                user = accounts.register(
                    session, accounts.Registration(email, PASSWORD, "Virtual", f"User {n}"),
                    confirmed=True,
                )  # fmt: skip
                org = organizations.create_organization(session, user=user, name=f"Load Co {n}")
                session.flush()
                session.add(
                    Subscription(
                        organization_id=org.id, kind="plan", plan_key="unlimited",
                        status="active", stripe_subscription_id=f"sub_load_{run}_{n}",
                    )
                )  # fmt: skip
                link = links.create_link(
                    session, user=user, organization_id=org.id,
                    target_url=f"https://example.com/seed/{n}",
                )  # fmt: skip
                key, _ = api_keys.create_key(
                    session, user=user, name="load", active_org_id=org.id, password=PASSWORD
                )
                ticket = accounts.issue_sign_in_ticket(session, user, org.id, browser="load")
                cookie, _ = accounts.open_session(session, ticket, browser="load")
                made.append(Account(email, org.id, key, cookie, link.slug, org.public_id))
    finally:
        security.hash_password = real_hash
    return made


# --- measurements ----------------------------------------------------------------------------


class ActionError(Exception):
    """An action that did not do what the browser expects (message says what happened)."""


@dataclass
class Metrics:
    started: float = field(default_factory=time.perf_counter)
    ended: float = 0.0
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    samples: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    cpu: dict[int, float] = field(default_factory=dict)  # worker pid → share of one core
    generator_cpu: float = 0.0

    def record(self, action: str, seconds: float) -> None:
        self.times[action].append(seconds)

    def error(self, action: str, exc: BaseException) -> None:
        self.errors[action] += 1
        message = str(exc) or type(exc).__name__
        self.samples[action][f"{type(exc).__name__}: {message}"[:160]] += 1

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    def page_p95(self) -> float:
        return self.worst_page()[1]

    def worst_page(self) -> tuple[str, float]:
        """The page action with the highest p95, and that p95."""
        p95s = [(percentile(self.times[a], 95), a) for a in PAGE_ACTIONS if self.times.get(a)]
        value, action = max(p95s, default=(0.0, "—"))
        return action, value

    def passed(self) -> bool:
        return sum(self.errors.values()) == 0 and self.page_p95() < PAGE_LIMIT_P95

    def total_actions(self) -> int:
        return sum(len(v) for k, v in self.times.items() if not k.startswith("live"))


# --- a browser tab: one page load over the websocket --------------------------------------


def _events(data: dict) -> list[dict]:
    return data.get("events") or []


def _refusal(data: dict) -> str | None:
    """A redirect (e.g. to /login: not signed in) or an error toast in a frame."""
    for event in _events(data):
        payload = event.get("payload") or {}
        if event.get("name") == "_redirect":
            return f"redirected to {payload.get('path')}"
        function = str(payload.get("function") or "")
        if event.get("name") == "_call_function" and '["error"]' in function:
            found = re.search(r'\]\("(.*)"\)', function)
            return f"error toast: {found.group(1) if found else function[:100]}"
    return None


def _script(data: dict, needle: str) -> str | None:
    for event in _events(data):
        code = str((event.get("payload") or {}).get("javascript_code") or "")
        if event.get("name") == "_call_script" and needle in code:
            return code
    return None


def _hydrated(data: dict) -> bool:
    return (data.get("delta") or {}).get(ROOT_STATE, {}).get("is_hydrated_rx_state_") is True


class Tab:
    """A page of the app in a browser tab: its websocket, opened with the tab's token and
    the browser's cookies, hydrated and loaded exactly as the frontend does it."""

    def __init__(self, base: str, cookies: str, token: str, path: str) -> None:
        self.base, self.cookies, self.token, self.path = base, cookies, token, path
        self.client = socketio.AsyncClient(reconnection=False)
        self.frames: list[dict] = []
        self._arrived = asyncio.Event()
        self.client.on("event", self._on_event, namespace="/_event")

    async def _on_event(self, data) -> None:
        self.frames.append(data)
        self._arrived.set()

    def router_data(self) -> dict:
        return {"pathname": self.path, "asPath": self.path, "query": {}}

    async def open(self) -> None:
        headers = {"Origin": self.base}
        if self.cookies:
            headers["Cookie"] = self.cookies
        await self.client.connect(
            f"{self.base}?token={self.token}",
            transports=["websocket"],
            namespaces=["/_event"],
            socketio_path="/_event",
            headers=headers,
            auth={"event": {"name": HYDRATE, "payload": {}, "router_data": self.router_data()}},
            wait_timeout=TIMEOUT,
        )
        await self.wait_for(_hydrated, since=0)
        for data in self.frames:
            if problem := _refusal(data):
                raise ActionError(problem)

    async def send(self, name: str, payload: dict) -> int:
        """Emit an event as the page would; returns where its answer's frames start."""
        mark = len(self.frames)
        event = {"name": name, "payload": payload, "router_data": self.router_data()}
        await self.client.emit("event", event, namespace="/_event")
        return mark

    async def wait_for(self, done, since: int) -> dict:
        """The first frame from `since` on that `done` accepts (refusals end the wait)."""
        deadline = time.monotonic() + TIMEOUT
        index = since
        while True:
            while index < len(self.frames):
                data = self.frames[index]
                index += 1
                if done(data):
                    return data
                if since and (problem := _refusal(data)):
                    raise ActionError(problem)
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.client.connected:
                raise ActionError("no answer" if self.client.connected else "disconnected")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 1.0))

    def delta_of(self, state: str, since: int) -> dict:
        merged: dict = {}
        for data in self.frames[since:]:
            merged.update((data.get("delta") or {}).get(state, {}))
        return merged

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.disconnect()


class LiveWatcher(Watcher):
    """usage_live's watcher (/organization left open), that wakes the waiting checks."""

    def __init__(self, run: "Run", account: Account) -> None:
        super().__init__(run.base, "/organization/", account.cookie, "usage_state", "links_used")
        self.run, self.account = run, account
        self._arrived = asyncio.Event()
        self.client.on("disconnect", self._on_disconnect, namespace="/_event")

    async def connect(self) -> None:
        """Watcher.connect, with the load's patience for the hydrate under load."""
        from orgportal.routes import SESSION_COOKIE

        router_data = {"pathname": self.path, "asPath": self.path, "query": {}}
        await self.client.connect(
            f"{self.base}?token={uuid.uuid4()}",
            transports=["websocket"],
            namespaces=["/_event"],
            socketio_path="/_event",
            headers={"Origin": self.base, "Cookie": f"{SESSION_COOKIE}={self.cookie}"},
            auth={"event": {"name": HYDRATE, "payload": {}, "router_data": router_data}},
            wait_timeout=TIMEOUT,
        )

    async def on_event(self, data) -> None:
        await super().on_event(data)
        self._arrived.set()

    async def _on_disconnect(self, *_) -> None:
        if not self.run.stop.is_set():
            self.run.metrics.error(OTHER_ACTIONS[-1], ActionError("watcher disconnected"))

    async def arrival(self, value: int) -> float:
        deadline = time.monotonic() + LIVE_TIMEOUT
        while value not in self.seen:
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ActionError(f"count {value} never arrived (last {max(self.seen, default=0)})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.seen[value]


# --- the virtual users ------------------------------------------------------------------------


class Stop(Exception):
    pass


class Run:
    """One level: `users` VUs, measured for `seconds` after a warm-up.

    The warm-up lets every VU arrive and sign in once (arrivals spread over `ramp`), and
    starts each VU's first session at a random round, so that the measured window sees the
    steady daily mix (sign-ins spread out as sessions end) rather than all users signing in
    in the same seconds. The warm-up's own figures are kept apart (`warmup`); its errors
    fail the level too."""

    def __init__(self, stack: Stack, accounts: list[Account], users: int, seconds: float, args):
        self.stack, self.base = stack, stack.base
        self.accounts, self.users, self.seconds, self.args = accounts[:users], users, seconds, args
        self.metrics = self.warmup = Metrics()
        self.ramp = min(30.0, max(2.0, users * 0.25))
        self.warmup_seconds = self.ramp + 8 * args.think
        self.stop = asyncio.Event()
        self.slugs = [a.slug for a in accounts]
        self.live_checks: set[asyncio.Task] = set()
        self.names = _event_names()

    def passed(self) -> bool:
        return self.metrics.passed() and not sum(self.warmup.errors.values())

    async def go(self) -> Metrics:
        connector = aiohttp.TCPConnector(limit=0)
        self.anonymous = aiohttp.ClientSession(
            self.base, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        )
        self.warmup = self.metrics = Metrics()
        watchers = [LiveWatcher(self, a) for a in self.accounts[:: max(1, self.args.watch_every)]]
        by_org = {}
        for start in range(0, len(watchers), 20):
            wave = watchers[start : start + 20]
            results = await asyncio.gather(*(w.connect() for w in wave), return_exceptions=True)
            for watcher, result in zip(wave, results, strict=True):
                if isinstance(result, BaseException):
                    self.warmup.error("watcher connect", result)
                else:
                    by_org[watcher.account.org_id] = watcher
        await asyncio.sleep(2.5)  # past the usage state's settle time (state/usage.py SETTLE)
        vus = [
            VirtualUser(self, n, account, by_org.get(account.org_id), self.ramp * n / self.users)
            for n, account in enumerate(self.accounts)
        ]
        tasks = [asyncio.create_task(vu.live()) for vu in vus]
        await asyncio.sleep(self.warmup_seconds)
        cpu_before, started = self.stack.cpu_seconds(), os.times()
        self.warmup.ended = time.perf_counter()
        self.metrics = Metrics()
        await asyncio.sleep(self.seconds)
        self.metrics.ended = time.perf_counter()
        cpu_after, ended = self.stack.cpu_seconds(), os.times()
        self.stop.set()
        _done, pending = await asyncio.wait(tasks, timeout=TIMEOUT + 15)
        for task in pending:
            task.cancel()
        if self.live_checks:
            await asyncio.wait(self.live_checks, timeout=LIVE_TIMEOUT + 5)
        self.cpu = {
            pid: (cpu_after[pid] - cpu_before.get(pid, 0.0)) / self.metrics.seconds
            for pid in cpu_after
        }
        self.generator_cpu = (
            (ended.user - started.user) + (ended.system - started.system)
        ) / self.metrics.seconds
        for start in range(0, len(watchers), 50):
            await asyncio.gather(*(w.client.disconnect() for w in watchers[start : start + 50]))
        await self.anonymous.close()
        return self.metrics


def _event_names() -> dict[str, str]:
    from orgportal.state.auth import LoginState
    from orgportal.state.base import AppState
    from orgportal.state.content import LinksState

    return {
        "submit": f"{LoginState.get_full_name()}.submit",
        "switch": f"{AppState.get_full_name()}.switch_workspace",
        "create": f"{LinksState.get_full_name()}.create",
        "links_state": LinksState.get_full_name(),
        "login_state": LoginState.get_full_name(),
        "app_state": AppState.get_full_name(),
    }


class VirtualUser:
    def __init__(self, run: Run, n: int, account: Account, watcher, delay: float) -> None:
        self.run, self.n, self.account, self.watcher, self.delay = run, n, account, watcher, delay
        self.rng = random.Random(n)
        self.created = 0
        self.rounds = self.rng.randint(1, run.args.iterations)  # the first session's

    async def live(self) -> None:
        try:
            await self.think(self.delay)
            while True:
                await self.session()
                self.rounds = self.run.args.iterations
        except Stop:
            return

    async def think(self, seconds: float | None = None) -> None:
        if seconds is None:
            seconds = self.run.args.think * self.rng.uniform(0.5, 1.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.run.stop.wait(), seconds)
        if self.run.stop.is_set():
            raise Stop

    async def act(self, action: str, work):
        """Time one action; a failure is counted and returns None."""
        if self.run.stop.is_set():
            raise Stop
        metrics, began = self.run.metrics, time.perf_counter()  # counted where it began
        try:
            result = await asyncio.wait_for(work(), TIMEOUT + 5)
        except (Exception, TimeoutError) as exc:
            metrics.error(action, exc)
            return None
        metrics.record(action, time.perf_counter() - began)
        return True if result is None else result

    # --- one signed-in browser session ---

    async def session(self) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(self.run.base, cookie_jar=jar) as http:
            self.http, self.jar, self.token = http, jar, str(uuid.uuid4())
            try:
                await self._session()
            finally:
                self.http = None

    def cookies(self) -> str:
        found = self.jar.filter_cookies(URL(self.run.base))
        return "; ".join(f"{name}={morsel.value}" for name, morsel in found.items())

    async def _session(self) -> None:
        await self.think()
        login = await self.act("page /login", lambda: self.open("/login/"))
        if login is None:
            return
        try:
            await self.think()
            signed_in = await self.act("sign in", lambda: self.sign_in(login))
        finally:
            await login.close()
        if signed_in is None:
            return
        # Signing in lands in the Personal Workspace: Switch Organization in the profile menu
        await self.think()
        landing = await self.act("page /organization", lambda: self.open("/organization/"))
        if landing is None:
            return
        try:
            await self.think()
            if await self.act("switch workspace", lambda: self.switch(landing)) is None:
                return
        finally:
            await landing.close()
        for _ in range(self.rounds):
            await self.round()
        await self.think()
        await self.act("sign out", self.sign_out)

    async def round(self) -> None:
        for path in PAGES[:2]:
            await self.think()
            tab = await self.act(f"page {path.rstrip('/')}", lambda p=path: self.open(p))
            if tab is not None:
                await tab.close()
        await self.think()
        tab = await self.act("page /links", lambda: self.open("/links/"))
        if tab is not None:
            try:
                await self.think()
                await self.act("create link (ws)", lambda: self.create(tab))
            finally:
                await tab.close()
        for _ in range(3):
            await self.think()
            await self.act("follow /<slug> (302)", self.follow)
        await self.think()
        await self.act(
            "GET /api/organizations/{id}/usage",
            lambda: self.api(f"/api/organizations/{self.account.org_ref}/usage"),
        )
        await self.think()
        await self.act("GET /api/links", lambda: self.api("/api/links"))

    # --- the actions ---

    async def open(self, path: str) -> Tab:
        """A full page load: the page itself, then its websocket (hydrate + on_load)."""
        async with self.http.get(path, allow_redirects=False) as answer:
            await answer.read()
            if answer.status != 200:
                raise ActionError(f"GET {path}: {answer.status}")
        tab = Tab(self.run.base, self.cookies(), self.token, path)
        try:
            await tab.open()
        except BaseException:
            await tab.close()
            raise
        return tab

    async def sign_in(self, login: Tab) -> None:
        names = self.run.names
        mark = await login.send(
            names["submit"], {"form": {"email": self.account.email, "password": PASSWORD}}
        )

        def answered(data: dict) -> bool:
            error = (data.get("delta") or {}).get(names["login_state"], {}).get("error_rx_state_")
            return bool(error) or _script(data, "/api/auth/session") is not None

        data = await login.wait_for(answered, mark)
        code = _script(data, "/api/auth/session")
        if code is None:
            raise ActionError(data["delta"][names["login_state"]]["error_rx_state_"])
        await self.redeem(code)
        if "orgportal_session" not in self.cookies():
            raise ActionError("no session cookie")

    async def redeem(self, code: str) -> None:
        """Do what the sign-in's script does with its ticket. Either the browser loads the
        ticket link (`window.location.assign("/api/auth/session?ticket=…")`: 303 with the
        cookie), or the page posts the ticket (`fetch("/api/auth/session", POST)`:
        204 with the cookie) and then reconnects its websocket."""
        if "?ticket=" in code:
            url = json.loads(code[code.index("(") + 1 : code.rindex(")")])
            async with self.http.get(url, allow_redirects=False) as answer:
                await answer.read()
                if answer.status != 303 or "retry" in answer.headers.get("Location", ""):
                    raise ActionError(f"ticket link: {answer.status}")
            return
        found = re.search(r'\}\)\(\s*("(?:[^"\\]|\\.)*")', code)  # the script's first argument
        if found is None:
            raise ActionError(f"no ticket in the sign-in script: {code[:80]}")
        form = {"ticket": json.loads(found.group(1))}
        headers = {"Origin": self.run.base}
        async with self.http.post("/api/auth/session", data=form, headers=headers) as answer:
            await answer.read()
            if answer.status != 204:
                raise ActionError(f"ticket post: {answer.status}")

    async def switch(self, tab: Tab) -> None:
        mark = await tab.send(
            self.run.names["switch"], {"organization_id": self.account.org_id, "to": ""}
        )

        app_state = self.run.names["app_state"]

        def moved(data: dict) -> bool:
            """A page load of the destination; or a client-side route change, or
            this very page filled for the new workspace in the same event."""
            if _script(data, "window.location.assign") is not None:
                return True
            shown = (data.get("delta") or {}).get(app_state, {}).get("active_org_id_rx_state_")
            return shown == self.account.org_id or any(
                e.get("name") == "_redirect"
                and str((e.get("payload") or {}).get("path", "")).startswith("/organization")
                for e in _events(data)
            )

        await tab.wait_for(moved, mark)

    async def create(self, tab: Tab) -> None:
        self.created += 1
        form = {"target_url": f"https://example.com/{self.n}/{self.created}", "slug": ""}
        sent = time.perf_counter()
        mark = await tab.send(self.run.names["create"], {"form": form})
        state = self.run.names["links_state"]

        def answered(data: dict) -> bool:
            errors = (data.get("delta") or {}).get(state, {}).get("errors_rx_state_")
            return bool(errors) or any(
                '["success"]' in str((e.get("payload") or {}).get("function"))
                for e in _events(data)
            )

        await tab.wait_for(answered, mark)
        delta = tab.delta_of(state, mark)
        if delta.get("errors_rx_state_"):
            raise ActionError(f"refused: {delta['errors_rx_state_']}")
        rows = delta.get("rows_rx_state_") or []
        if rows:
            self.run.slugs.append(rows[0]["slug"])
        total = delta.get("total_rx_state_")
        if self.watcher is not None and isinstance(total, int):
            check = asyncio.create_task(self.live_bar(total, sent, self.run.metrics))
            self.run.live_checks.add(check)
            check.add_done_callback(self.run.live_checks.discard)

    async def live_bar(self, count: int, sent: float, metrics: Metrics) -> None:
        action = OTHER_ACTIONS[-1]
        try:
            arrived = await self.watcher.arrival(count)
        except Exception as exc:
            metrics.error(action, exc)
        else:
            metrics.record(action, arrived - sent)

    async def follow(self) -> None:
        slug = self.rng.choice(self.run.slugs)
        async with self.run.anonymous.get(f"/{slug}", allow_redirects=False) as answer:
            await answer.read()
            if answer.status != 302 or not answer.headers.get("Location", "").startswith(
                "https://example.com/"
            ):
                raise ActionError(f"GET /{slug}: {answer.status}")

    async def api(self, path: str) -> None:
        headers = {"Authorization": f"Bearer {self.account.api_key}"}
        async with self.run.anonymous.get(path, headers=headers) as answer:
            await answer.read()
            if answer.status != 200:
                raise ActionError(f"GET {path}: {answer.status}")

    async def sign_out(self) -> None:
        headers = {"Origin": self.run.base}
        async with self.http.post("/api/auth/logout", headers=headers) as answer:
            await answer.read()
            if answer.status != 204:
                raise ActionError(f"logout: {answer.status}")


# --- 10,000 past visitors: does a worker's memory grow with them? --------------------------


async def visitors(stack: Stack, accounts: list[Account], count: int, concurrency: int):
    """`count` distinct short-lived clients (a new token each) load /organization (hydrate +
    load) and leave. Returns the RSS checkpoints and the load metrics."""
    metrics = Metrics()
    checkpoints = [(0, stack.rss_kib(), stack.redis_memory())]
    marks = {count * k // 4 for k in range(1, 5)}
    done = 0
    queue = iter(range(count))

    from orgportal.routes import SESSION_COOKIE

    async def one(n: int) -> None:
        account = accounts[n % len(accounts)]
        tab = Tab(
            stack.base, f"{SESSION_COOKIE}={account.cookie}", str(uuid.uuid4()), "/organization/"
        )
        began = time.perf_counter()
        try:
            await asyncio.wait_for(tab.open(), TIMEOUT + 5)
        except (Exception, TimeoutError) as exc:
            metrics.error("page /organization (new visitor)", exc)
        else:
            metrics.record("page /organization (new visitor)", time.perf_counter() - began)
        finally:
            await tab.close()

    async def worker() -> None:
        nonlocal done
        for n in queue:
            await one(n)
            done += 1
            if done in marks:  # taken at once by whoever finished that visitor
                checkpoints.append((done, stack.rss_kib(), stack.redis_memory()))
                rss = ", ".join(f"{kib / 1024:.0f}" for kib in checkpoints[-1][1].values())
                print(
                    f"  {done:,} visitors, {done / metrics.seconds:.1f}/s; workers' RSS {rss} MiB",
                    flush=True,
                )

    cpu_before, began = stack.cpu_seconds(), os.times()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    metrics.ended = time.perf_counter()
    cpu_after, ended = stack.cpu_seconds(), os.times()
    metrics.cpu = {p: (cpu_after[p] - cpu_before.get(p, 0)) / metrics.seconds for p in cpu_after}
    metrics.generator_cpu = (
        ended.user + ended.system - began.user - began.system
    ) / metrics.seconds
    await asyncio.sleep(5)  # disconnects processed
    checkpoints.append((-1, stack.rss_kib(), stack.redis_memory()))
    return checkpoints, metrics


# --- report -----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def print_table(metrics: Metrics, title: str) -> None:
    print(f"\n{title}")
    head = f"  {'action':<36} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    names = [a for a in ACTIONS if a in metrics.times or a in metrics.errors]
    names += [a for a in {*metrics.times, *metrics.errors} if a not in names]
    for action in names:
        values = metrics.times.get(action, [])
        rate = len(values) / metrics.seconds if metrics.seconds else 0
        if values:
            cells = (
                percentile(values, 50),
                percentile(values, 95),
                percentile(values, 99),
                max(values),
            )
            figures = " ".join(f"{ms(v):>8}" for v in cells)
        else:
            figures = " ".join(f"{'—':>8}" for _ in range(4))
        flag = " *" if action in PAGE_ACTIONS else ""
        print(
            f"  {action + flag:<36} {len(values):>7,} {rate:>7.1f} {figures} {metrics.errors[action]:>6}"
        )
    for action, samples in metrics.samples.items():
        for message, times in samples.most_common(3):
            print(f"    ! {action}: {message} (×{times})")


def print_memory(stack: Stack, checkpoints, after_run: dict[int, int]) -> None:
    pids = sorted(after_run)
    print("\nWorker memory (VmRSS of each granian worker, MiB)")
    print(
        f"  {'when':<44} "
        + " ".join(f"{'pid ' + str(p):>12}" for p in pids)
        + f" {'Redis MiB':>10} {'keys':>7}"
    )

    def row(label: str, sizes: dict[int, int], redis_mem: tuple[int, int] | None) -> None:
        cells = " ".join(f"{sizes.get(p, 0) / 1024:>12.1f}" for p in pids)
        extra = f" {redis_mem[0] / 2**20:>10.1f} {redis_mem[1]:>7,}" if redis_mem else ""
        print(f"  {label:<44} {cells}{extra}")

    row("after the load run", after_run, None)
    for done, sizes, redis_mem in checkpoints:
        label = (
            "before the visitors" if done == 0
            else "5 s after the last visitor left" if done < 0
            else f"after {done:,} visitors (new token each)"
        )  # fmt: skip
        row(label, sizes, redis_mem)


def print_level(run: Run) -> None:
    metrics, warm = run.metrics, run.warmup
    cpu = ", ".join(f"{v * 100:.0f}%" for v in run.cpu.values())
    errors = sum(metrics.errors.values()) + sum(warm.errors.values())
    signins = warm.times.get("sign in", [])
    arrival = (
        f"sign-in p50/p95 {ms(percentile(signins, 50))}/{ms(percentile(signins, 95))} ms"
        if signins
        else "no sign-in"
    )
    print(
        f"  {run.users:>4} VUs: {metrics.total_actions() / metrics.seconds:6.1f} actions/s, "
        f"worst page-action p95 {ms(metrics.page_p95()):>6} ms ({metrics.worst_page()[0]}), "
        f"{errors} errors, "
        f"workers' CPU {cpu}, load generator {run.generator_cpu * 100:.0f}% "
        f"→ {'pass' if run.passed() else 'FAIL'}  (warm-up: {len(signins)} arrivals over "
        f"{run.ramp:.0f} s, {arrival}, {sum(warm.errors.values())} errors; "
        f"machine load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    for label, figures in (("warm-up", warm), ("measured", metrics)):
        for action, samples in figures.samples.items():
            for message, times in samples.most_common(2):
                print(f"         ! {label} {action}: {message} (×{times})")


# --- main ---------------------------------------------------------------------------------------


class Bench:
    def __init__(self, stack: Stack, args) -> None:
        self.stack, self.args = stack, args
        self.accounts: list[Account] = []

    def ensure_accounts(self, users: int) -> None:
        if len(self.accounts) < users:
            self.accounts += seed_accounts(len(self.accounts), users - len(self.accounts))

    def level(self, users: int, minutes: float) -> Run:
        self.ensure_accounts(users)
        run = Run(self.stack, self.accounts, users, minutes * 60, self.args)
        asyncio.run(run.go())
        print_level(run)
        time.sleep(3)  # queued clicks written, disconnects processed
        return run


def find(bench: Bench, args) -> Run:
    """Double the VUs while a short step passes (halve them while the first fails), narrow
    between the last pass and the first failure, then confirm the best passing level for
    --minutes (stepping down on failure). Returns the confirming run (or the last one)."""
    print(f"Stepping up ({args.step_minutes:g} min per step, think {args.think:g} s):", flush=True)
    passed: int | None = None
    failed: int | None = None
    users = args.start
    while users <= args.max_users:
        run = bench.level(users, args.step_minutes)
        if run.passed():
            passed, users = users, users * 2
            if failed is not None:  # came down from a failing start: narrow from here
                break
            continue
        failed = users
        if passed is not None or users == 1:
            break
        users = max(1, users // 2)
    for _ in range(args.refine):
        if passed is None or failed is None or failed - passed <= max(2, passed // 8):
            break
        users = (passed + failed) // 2
        if bench.level(users, args.step_minutes).passed():
            passed = users
        else:
            failed = users
    if passed is None:
        print("No level passed.")
        return run
    for _ in range(3):
        print(f"Confirming {passed} VUs for {args.minutes:g} min…", flush=True)
        run = bench.level(passed, args.minutes)
        if run.passed() or passed <= 1:
            return run
        passed = max(1, passed * 4 // 5)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="virtual users (one level)")
    parser.add_argument(
        "--minutes", type=float, default=5.0, help="the level's (or confirmation's) length"
    )
    parser.add_argument("--find", action="store_true", help="step up to the highest passing level")
    parser.add_argument("--start", type=int, default=10, help="--find: the first level")
    parser.add_argument(
        "--step-minutes", type=float, default=1.0, help="--find: each step's length"
    )
    parser.add_argument(
        "--max-users", type=int, default=640, help="--find: the highest level tried"
    )
    parser.add_argument("--refine", type=int, default=2, help="--find: narrowing steps")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds before each action")
    parser.add_argument("--iterations", type=int, default=3, help="rounds per signed-in session")
    parser.add_argument("--watch-every", type=int, default=2, help="one VU in N has a watcher tab")
    parser.add_argument(
        "--visitors",
        type=int,
        default=10_000,
        help="short-lived page loads for the memory check (0: none)",
    )
    parser.add_argument("--visitor-concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-log", action="store_true", help="keep the app's log in /tmp")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    started = time.monotonic()
    with Stack(args.workers, args.keep_log) as stack:
        print(f"app up in {time.monotonic() - started:.0f} s: {args.workers} workers "
              f"{stack.worker_pids()}, PostgreSQL {stack.database}, Redis {stack.redis_url}",
              flush=True)  # fmt: skip
        bench = Bench(stack, args)
        run = find(bench, args) if args.find else bench.level(args.users, args.minutes)
        metrics = run.metrics
        print_table(
            metrics,
            f"{run.users} virtual users, think {args.think:g} s, {metrics.seconds / 60:.1f} min "
            f"after a {run.warmup.seconds:.0f} s warm-up, {args.workers} workers (* page "
            f"action: p95 must stay under {PAGE_LIMIT_P95 * 1000:.0f} ms; every action: 0 errors)",
        )
        verdict = "PASSES" if run.passed() else "FAILS"
        print(f"  → this level {verdict}; load average {os.getloadavg()[0]:.1f}")
        after_run = stack.rss_kib()
        checkpoints = []
        if args.visitors:
            print(f"\n{args.visitors:,} visitors load /organization…", flush=True)
            checkpoints, visits = asyncio.run(
                visitors(stack, bench.accounts, args.visitors, args.visitor_concurrency)
            )
            print_table(
                visits,
                f"{args.visitors:,} short-lived visitors ({args.visitor_concurrency} at a time; "
                f"workers' CPU {', '.join(f'{v * 100:.0f}%' for v in visits.cpu.values())}, "
                f"load generator {visits.generator_cpu * 100:.0f}%)",
            )
        print_memory(stack, checkpoints, after_run)
        expiring, forever, longest, kinds = stack.redis_expiry()
        print(
            f"  Redis keys: {expiring:,} expire (longest TTL {longest:,} s; "
            f"REFLEX_REDIS_TOKEN_EXPIRATION={stack.env['REFLEX_REDIS_TOKEN_EXPIRATION']}), "
            f"{forever:,} without expiry"
        )
        for kind, number in kinds.most_common(5):
            print(f"    without expiry: {kind.decode(errors='replace')} ×{number:,}")
        problems = stack.log_problems()
        print(f"\nApp log: {len(problems)} error lines")
        for line in problems[:10]:
            print(f"  {line}")
        if problems and not args.keep_log:
            stack.keep_log = True


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # tear the stack down on SIGTERM too
    main()
