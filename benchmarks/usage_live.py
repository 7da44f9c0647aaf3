"""How fast do live usage bars follow a change? Watching clients, and two floors.

Starts the real app (`make run`) on a temporary SQLite database with Redis (so that this
process can make changes the way another worker would), connects N watchers that open
/organization exactly like the browser does (signed-in cookie, the hydrate + on_load event
in the Socket.IO connect), then creates links one by one through the service layer and
measures, for each change, the time until every watcher has received the new count (from
the start of the change's transaction). Prints p50/p95.

The watchers are raw websocket clients speaking the Engine.IO/Socket.IO protocol minimally
(benchmarks/ws_clients.py), in `--client-processes` processes (default 2), so that 2,000
sockets on a 2-core machine measure the server rather than the clients; every app is
driven by the same clients.

Modes:
  --floor      the same measurement on a bare Reflex app (benchmarks/floor_app: one state
               var, one `app.modify_state` per watching token on each change published on
               the same Redis, one worker): the framework's own floor.
  --compare    orgportal and the Reflex floor in the same run, with the ratio.
  --transport  orgportal and the transport floor in the same run, with the ratio: a bare
               python-socketio server under granian (benchmarks/transport_floor.py) that
               emits one small frame to a room of all its sockets, the change coming from
               this process through `socketio.AsyncRedisManager`: the sockets alone.
  --workers 2  every app with two backend workers sharing Redis (watchers spread over both
               by the kernel, changes made in this third process).
  --orgs K     many organizations: K organizations × --per-org clients, one change per
               --interval seconds in a random organization; counts the frames received by
               the clients of organizations that did not change (must be 0).

    .venv/bin/python benchmarks/usage_live.py --clients 100 --changes 20 [--workers 1]
    .venv/bin/python benchmarks/usage_live.py --compare --clients 100 500 --changes 20
    .venv/bin/python benchmarks/usage_live.py --transport --clients 100 500 [2000] [--workers 2]
    .venv/bin/python benchmarks/usage_live.py --orgs 200 --per-org 5 --changes 30
"""

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parents[1]
FLOOR_APP = Path(__file__).resolve().parent / "floor_app"
CLIENTS = Path(__file__).resolve().parent / "ws_clients.py"
sys.path.insert(0, str(ROOT))
HYDRATE = "reflex___state____state.hydrate_and_load"

from tests import processes  # noqa: E402  (after the checkout is on the path)
from tests.processes import free_port  # noqa: E402, F401  (also for the other benchmarks)


def start_app(command: list[str], cwd: Path, env: dict[str, str], log: Path, page: str):
    """Run a Reflex app in prod (one port) until /ping and `page` answer."""
    try:
        return processes.start(
            command, ready=processes.answers(f"http://localhost:{env['PORT']}", "/ping", page),
            log=log, cwd=cwd, env={**os.environ, **env}, timeout=300, interval=1, what="the app",
        )  # fmt: skip
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def stop_app(proc: subprocess.Popen) -> None:
    processes.stop(proc, timeout=30)


class Watcher:
    """One open page: remembers when each value of the watched var arrived, and counts
    the frames that carried the watched state."""

    def __init__(self, base: str, path: str, cookie: str, state: str, var: str):
        self.base, self.path, self.cookie = base, path, cookie
        self.state, self.var = state, var
        self.client = socketio.AsyncClient(reconnection=False)
        self.seen: dict[int, float] = {}
        self.frames = 0
        self.client.on("event", self.on_event, namespace="/_event")

    async def on_event(self, data) -> None:
        for state_name, values in (data.get("delta") or {}).items():
            if state_name.endswith(self.state):
                self.frames += 1
                for key, value in values.items():
                    if key.startswith(self.var + "_rx_state_"):
                        self.seen.setdefault(int(value), time.perf_counter())

    async def connect(self) -> None:
        from orgportal.routes import SESSION_COOKIE

        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        await self.client.connect(
            f"{self.base}?token={uuid.uuid4()}",
            transports=["websocket"],
            namespaces=["/_event"],
            socketio_path="/_event",
            headers=headers,
            auth={
                "event": {
                    "name": HYDRATE,
                    "payload": {},
                    "router_data": {"pathname": self.path, "asPath": self.path, "query": {}},
                }
            },
        )


async def connect_all(watchers: list[Watcher], initial: int) -> None:
    for start in range(0, len(watchers), 25):  # small waves, as real visitors arrive
        await asyncio.gather(*(w.connect() for w in watchers[start : start + 25]))
    await _until(lambda: all(initial in w.seen for w in watchers), 120, "initial values")
    # pages loaded in the last 2 s get their first push through their state (orgportal
    # state/usage.py SETTLE): measure the steady state, as the floor's
    await asyncio.sleep(3)


async def _until(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@dataclass
class Round:
    """What one measurement needs of an app: how to open a watching page, how to make
    change n (returns the value the watchers must then show)."""

    path: str
    cookie: str
    state: str
    var: str
    change: Callable[[int], int]
    initial: int | None = 0  # the value a watcher's page shows once loaded (None: nothing)


class Clients:
    """N watchers spread over `processes` client processes (benchmarks/ws_clients.py: raw
    websocket + minimal Engine.IO/Socket.IO, the same client for every app measured)."""

    def __init__(self, base: str, round_: "Round", count: int, processes: int, initial):
        from orgportal.routes import SESSION_COOKIE

        port = int(base.rsplit(":", 1)[1])
        cookie = f"{SESSION_COOKIE}={round_.cookie}" if round_.cookie else ""
        per = [count // processes + (i < count % processes) for i in range(processes)]
        self.commands = [
            [sys.executable, str(CLIENTS), "--port", str(port), "--count", str(n),
             "--path", round_.path, "--cookie", cookie, "--state", round_.state,
             "--var", round_.var]
            + ([] if initial is None else ["--initial", str(initial), "--loaded"])
            for n in per if n
        ]  # fmt: skip
        self.count = count
        self.arrivals: dict[int, list[list[float]]] = {}
        self.ready = 0
        self.error = ""

    async def __aenter__(self) -> "Clients":
        self.procs = [
            await asyncio.create_subprocess_exec(
                *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            for command in self.commands
        ]
        self.readers = [asyncio.create_task(self._read(proc)) for proc in self.procs]
        # a page's load is the app's slowest part: 2,000 of them take minutes on 2 cores
        limit = 120 + 0.5 * self.count
        await self.until(lambda: self.ready == len(self.procs), limit, "the watchers to load")
        return self

    async def _read(self, proc) -> None:
        import json

        while line := await proc.stdout.readline():
            message = json.loads(line)
            if "ready" in message:
                self.ready += 1
            elif "value" in message:
                self.arrivals.setdefault(message["value"], []).append(message["times"])
            elif "error" in message:
                self.error = message["error"]

    async def until(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.error:
                raise SystemExit(f"a watcher failed: {self.error}")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            await asyncio.sleep(0.002)

    async def arrived(self, value: int, timeout: float) -> list[float]:
        """Every watcher's arrival time of `value` (time.monotonic())."""
        await self.until(
            lambda: len(self.arrivals.get(value, ())) == len(self.procs), timeout, f"{value}"
        )
        return [t for times in self.arrivals.pop(value) for t in times]

    async def __aexit__(self, *exc) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stdin.write(b"quit\n")
                await proc.stdin.drain()
                proc.stdin.close()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
        for reader in self.readers:
            reader.cancel()


async def measure(base: str, round_: Round, clients: int, changes: int, processes: int):
    async with Clients(base, round_, clients, processes, round_.initial) as watchers:
        # pages loaded in the last 2 s get their first push through their state (orgportal
        # state/usage.py SETTLE): measure the steady state, as the floors'
        await asyncio.sleep(3)
        to_last, per_client, making = [], [], []
        for n in range(1, changes + 1):
            started = time.monotonic()
            value = await asyncio.to_thread(round_.change, n)
            making.append(time.monotonic() - started)
            arrivals = [t - started for t in await watchers.arrived(value, 30)]
            to_last.append(max(arrivals))
            per_client.extend(arrivals)
            await asyncio.sleep(0.2)
    MAKING.setdefault(round_.state, []).extend(making)
    return to_last, per_client


# how long making the change itself took (orgportal: the link's transaction, then the
# publish; the floors: the publish), by the watched state's name
MAKING: dict[str, list[float]] = {}


# --- orgportal ---------------------------------------------------------------------------


def seed(organizations: int = 1) -> tuple[object, list[tuple[int, str]]]:
    """A signed-in owner of `organizations` organizations: (owner, [(org id, cookie)]),
    one session per organization, each active in it."""
    from orgportal.db import unit_of_work
    from orgportal.services import accounts
    from orgportal.services import organizations as orgs

    with unit_of_work() as session:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        owner = accounts.register(
            session,
            accounts.Registration(email, "correct horse battery", "Bench", "Mark"),
            confirmed=True,
        )
        created = [
            orgs.create_organization(session, user=owner, name=f"Benchmark Co {i}")
            for i in range(organizations)
        ]
        session.flush()
        tickets = [
            (org.id, accounts.issue_sign_in_ticket(session, owner, org.id, browser="benchmark"))
            for org in created
        ]
    sessions = []
    for org_id, ticket in tickets:
        with unit_of_work() as session:
            raw, _ = accounts.open_session(session, ticket, browser="benchmark")
        sessions.append((org_id, raw))
    return owner, sessions


def create_link(owner, org_id: int, n: int) -> None:
    from orgportal.db import unit_of_work
    from orgportal.services import links

    with unit_of_work() as session:
        links.create_link(
            session, user=owner, organization_id=org_id, target_url=f"https://example.com/{n}"
        )


def orgportal_round() -> Round:
    owner, [(org_id, cookie)] = seed()

    def change(n: int) -> int:
        create_link(owner, org_id, n)
        return n

    return Round("/organization/", cookie, "usage_state", "links_used", change)


class Orgportal:
    name = "orgportal"

    def __init__(self, env: dict[str, str], tmp: Path):
        self.env, self.tmp = env, tmp

    def __enter__(self) -> str:
        self.proc = start_app(
            ["make", "run"], ROOT, self.env, self.tmp / "app.log", "/organization"
        )
        return f"http://localhost:{self.env['PORT']}"

    def __exit__(self, *exc) -> None:
        stop_app(self.proc)

    def round(self) -> Round:
        return orgportal_round()


# --- the floor: a bare Reflex app --------------------------------------------------------


class Floor:
    name = "floor"

    def __init__(self, env: dict[str, str], tmp: Path):
        self.env, self.tmp, self.rounds = env, tmp, 0

    def __enter__(self) -> str:
        path = f"{ROOT / 'tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}"
        env = {
            **self.env,
            "PATH": path,
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
        }
        self.proc = start_app(
            ["reflex", "run", "--env", "prod"], FLOOR_APP, env, self.tmp / "floor.log", "/"
        )
        import redis

        self.redis = redis.Redis.from_url(self.env["REDIS_URL"])
        return f"http://localhost:{self.env['PORT']}"

    def __exit__(self, *exc) -> None:
        stop_app(self.proc)

    def round(self) -> Round:
        self.rounds += 1
        offset = 1000 * self.rounds  # new pages start at 0; each round's values are new

        def change(n: int) -> int:
            self.redis.publish("floor:changes", offset + n)
            return offset + n

        return Round("/", "", "floor_state", "value", change)


# --- the transport floor: a bare python-socketio server ---------------------------------


class TransportFloor:
    name = "transport floor"

    def __init__(self, env: dict[str, str], tmp: Path):
        self.env, self.tmp, self.rounds = env, tmp, 0

    def __enter__(self) -> str:
        port = self.env["PORT"]
        command = [
            str(ROOT / ".venv/bin/granian"), "--interface", "asgi", "--host", "0.0.0.0",
            "--port", port, "--workers", self.env["GRANIAN_WORKERS"], "--log-level", "warning",
            "transport_floor:app",
        ]  # fmt: skip
        self.proc = start_app(command, Path(__file__).resolve().parent, self.env,
                              self.tmp / "transport.log", "/ping")  # fmt: skip
        from transport_floor import change_emitter

        self.emitter = change_emitter(self.env["REDIS_URL"])
        return f"http://localhost:{port}"

    def __exit__(self, *exc) -> None:
        stop_app(self.proc)

    def round(self) -> Round:
        from transport_floor import STATE, VAR, emit_change

        self.rounds += 1
        offset = 1000 * self.rounds

        def change(n: int) -> int:
            emit_change(self.emitter, offset + n)
            return offset + n

        return Round("/", "", STATE, VAR, change, initial=None)


# --- many organizations ------------------------------------------------------------------


@dataclass
class ManyResult:
    to_last: list[float] = field(default_factory=list)
    per_client: list[float] = field(default_factory=list)
    changed: set[int] = field(default_factory=set)
    frames_elsewhere: int = 0
    frames_changed: int = 0
    clients: int = 0


async def measure_many(base: str, orgs: int, per_org: int, changes: int, interval: float):
    owner, sessions = await asyncio.to_thread(seed, orgs)
    pages = {
        org_id: [
            Watcher(base, "/organization/", cookie, "usage_state", "links_used")
            for _ in range(per_org)
        ]
        for org_id, cookie in sessions
    }
    everyone = [w for ws in pages.values() for w in ws]
    await connect_all(everyone, 0)
    for w in everyone:
        w.frames = 0
    result, counts = ManyResult(clients=len(everyone)), dict.fromkeys(pages, 0)
    rng = random.Random(16)
    for n in range(1, changes + 1):
        org_id = rng.choice(list(pages))
        counts[org_id] += 1
        result.changed.add(org_id)
        started = time.perf_counter()
        await asyncio.to_thread(create_link, owner, org_id, n)
        watchers, value = pages[org_id], counts[org_id]
        await _until(lambda ws=watchers, v=value: all(v in w.seen for w in ws), 20, f"change {n}")
        arrivals = [w.seen[value] - started for w in watchers]
        result.to_last.append(max(arrivals))
        result.per_client.extend(arrivals)
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
    await asyncio.sleep(1)  # any stray frame has time to arrive
    for org_id, watchers in pages.items():
        frames = sum(w.frames for w in watchers)
        if org_id in result.changed:
            result.frames_changed += frames
        else:
            result.frames_elsewhere += frames
    for start in range(0, len(everyone), 100):
        await asyncio.gather(*(w.client.disconnect() for w in everyone[start : start + 100]))
    return result


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def summary(to_last: list[float], per_client: list[float]) -> dict[str, float]:
    return {
        "last_p50": percentile(to_last, 50),
        "last_p95": percentile(to_last, 95),
        "last_max": max(to_last),
        "each_p50": percentile(per_client, 50),
        "each_p95": percentile(per_client, 95),
        "each_mean": statistics.mean(per_client),
    }


def print_summary(label: str, s: dict[str, float]) -> None:
    print(
        f"  {label:<34} change → last: p50 {ms(s['last_p50'])}, p95 {ms(s['last_p95'])}, "
        f"max {ms(s['last_max'])} | each: p50 {ms(s['each_p50'])}, p95 {ms(s['each_p95'])}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="backend workers of each app")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument(
        "--floor", action="store_true", help="the floor only (with --transport: that one)"
    )
    parser.add_argument("--compare", action="store_true", help="orgportal and the Reflex floor")
    parser.add_argument(
        "--transport", action="store_true", help="orgportal and the transport floor"
    )
    parser.add_argument(
        "--client-processes", type=int, default=2, help="processes the watchers run in"
    )
    parser.add_argument("--orgs", type=int, default=0, help="many-organizations mode")
    parser.add_argument("--per-org", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0)
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

    reflex_floor = args.compare or (args.floor and not args.transport)
    floors = ([Floor] if reflex_floor else []) + ([TransportFloor] if args.transport else [])
    apps = floors if args.floor else [*floors, Orgportal]
    if args.orgs:
        apps = [Orgportal]
    results: dict[tuple[str, int], dict[str, float]] = {}
    many: ManyResult | None = None
    for app_class in apps:
        redis.Redis.from_url(args.redis).flushdb()
        app = app_class(env, tmp)
        with app as base:
            for clients in [] if args.orgs else args.clients:
                to_last, per_client = asyncio.run(
                    measure(base, app.round(), clients, args.changes, args.client_processes)
                )
                results[(app.name, clients)] = summary(to_last, per_client)
                print_summary(f"{app.name}, {clients} watchers", results[(app.name, clients)])
            if args.orgs:
                many = asyncio.run(
                    measure_many(base, args.orgs, args.per_org, args.changes, args.interval)
                )
                for clients in args.clients:  # the single-organization figures, same run
                    to_last, per_client = asyncio.run(
                        measure(base, app.round(), clients, args.changes, args.client_processes)
                    )
                    results[(app.name, clients)] = summary(to_last, per_client)

    print(
        f"{args.changes} changes per measurement, {args.workers} backend worker(s) per app "
        f"(changes made by this process, across Redis), {os.cpu_count()} cores; watchers: "
        f"raw websocket clients (benchmarks/ws_clients.py) in {args.client_processes} "
        f"process(es)"
    )
    for clients in args.clients:
        print(f"{clients} watchers on one page each:")
        for app_class in apps:
            print_summary(app_class.name, results[(app_class.name, clients)])
        if args.floor:
            continue
        for floor_class in floors:
            ours, floor = results[("orgportal", clients)], results[(floor_class.name, clients)]
            print(
                f"  orgportal / {floor_class.name}: p50 "
                f"{ours['last_p50'] / floor['last_p50']:.2f}×, "
                f"p95 {ours['last_p95'] / floor['last_p95']:.2f}× (change → last watcher)"
            )
    for state, making in MAKING.items():
        print(
            f"making the change itself ({state}): p50 {ms(percentile(making, 50))}, "
            f"p95 {ms(percentile(making, 95))} (included above)"
        )
    if many is not None:
        print(
            f"{args.orgs} organizations × {args.per_org} watchers ({many.clients} clients), "
            f"one change every {args.interval:g} s in a random organization "
            f"({len(many.changed)} organizations changed):"
        )
        print_summary(
            f"{args.per_org} watchers of the changed org", summary(many.to_last, many.per_client)
        )
        print(f"  frames received by clients of changed organizations: {many.frames_changed}")
        print(f"  frames received by clients of unchanged organizations: {many.frames_elsewhere}")


if __name__ == "__main__":
    main()
