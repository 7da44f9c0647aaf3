"""Short-link redirects (the path every visitor of every link takes) against a bare
redirect, and analytics over 100 vs 1,000,000 clicks (SPEC §14: recording must not slow the
redirect; rollups keep the page fast).

1. Redirects per second and p99 latency, with LINKS (1,000,000) links in the table, click
   recording queued (the default), on a temp SQLite file or on PostgreSQL
   (`--database-url`, a scratch database: its tables are created and filled). Two servers,
   each uvicorn with one worker and the same flags, in its own process, loaded from this
   process with aiohttp (CONCURRENCY connections, SECONDS each, after a one-second warm-up,
   browser-like User-Agents and referrers, HOT slugs picked at random from the table):

   - **bare**: a Starlette app answering `GET /l/{slug}` with the same 302 from a dict in
     memory (no database, no middleware);
   - **bare + SPEC §18 minimum**: the same app inside the least SPEC §18 asks of every
     request, written lean (`spec_minimum`: request id, metrics, JSON log line, security
     headers, the click kept in memory): the floor any implementation of the spec stands on;
   - **orgportal**: the app's real front door as `orgportal.orgportal` builds it, minus
     Reflex's own pages: `Gateway(host_routing=True)` (request id, metrics, one JSON log
     line per request to a file, security headers, client address, Host routing) in front
     of `RootShortLinks(build_api())` with a stand-in for the Reflex app mounted under the
     API, as `api_transformer=[build_api(), RootShortLinks]` stacks them. It is loaded on
     `/l/{slug}`, on `/{slug}`, and on `/{slug}` with the Host of a verified custom domain.

   Every redirect must be a 302, and afterwards every click of the orgportal runs must be
   stored. `--recording-modes` also runs `/l/{slug}` with CLICK_RECORDING off and inline.
2. `--analytics`: analytics of one link with 100 clicks and one with CLICKS (1,000,000)
   clicks (90 days of click rows and their daily rollups, seeded with bulk inserts): what
   the /analytics page load runs and the REST `GET /api/links/{id}/stats`, median of RUNS.

    .venv/bin/python benchmarks/redirects.py [--seconds 5] [--concurrency 16]
        [--links 1000000] [--database-url postgresql://postgres@127.0.0.1:5432/scratch]
        [--redis-url redis://127.0.0.1:6379/11] [--recording-modes] [--analytics]
"""

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
REFERRERS = [f"https://site{i}.example/page" for i in range(40)] + [""]
COUNTRIES = ["GB", "US", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "IE", "CA", "AU", ""]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str):
    """A user, an organization, and three links: one to follow, two for the analytics."""
    from sqlmodel import Session, SQLModel

    from orgportal.db import make_engine
    from orgportal.services import accounts, api_keys, links, organizations

    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        form = accounts.Registration("bench@example.com", PASSWORD, "B", "U")
        user = accounts.register(session, form, confirmed=True)
        org = organizations.create_organization(session, user=user, name="Bench Co")
        made = [
            links.create_link(
                session,
                user=user,
                organization_id=org.id,
                target_url="https://example.com/landing?utm=bench",
                slug=slug,
            )
            for slug in ("bench-follow", "bench-small", "bench-large")
        ]
        made[0].append_click_id = True
        raw, _ = api_keys.create_key(
            session, user=user, name="bench", active_org_id=org.id, password=PASSWORD
        )
        session.commit()
    return engine, user, org, made, raw


# --- 1. redirects -----------------------------------------------------------------------

CUSTOM_HOST = "go.bench.example"
SERVER_FLAGS = {"host": "127.0.0.1", "log_level": "warning", "access_log": False}


def seed_links(engine, user, org, total: int) -> float:
    """`total` links of the organization, slugs `l0000000`…, in bulk inserts; and its
    verified custom domain. Returns the seconds it took."""
    from orgportal.models import CustomDomain, DomainStatus
    from orgportal.models.base import utcnow

    started = time.perf_counter()
    now = utcnow()
    columns = (
        "organization_id, owner_id, slug, target_url, created_at, pending_approval, append_click_id"
    )
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        for begin in range(0, total, 100_000):
            rows = [
                (org.id, user.id, slug_of(i), f"https://example.com/landing/{i}?utm=bench",
                 now, False, i % 2 == 0)
                for i in range(begin, min(total, begin + 100_000))
            ]  # fmt: skip
            if engine.dialect.name == "postgresql":  # COPY: the fastest bulk load there is
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY link ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor = raw.cursor()
                cursor.executemany(
                    f"INSERT INTO link ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row[:4], row[4].isoformat(sep=" "), *row[5:]) for row in rows],
                )
                cursor.close()
        conn.execute(
            CustomDomain.__table__.insert(),
            [
                {
                    "organization_id": org.id,
                    "domain": CUSTOM_HOST,
                    "token": "bench",
                    "status": DomainStatus.VERIFIED,
                    "failure_reason": "",
                    "created_at": now,
                    "verified_at": now,
                }
            ],
        )
    return time.perf_counter() - started


def slug_of(i: int) -> str:
    return f"l{i:07d}"


def bare_app(slugs: list[str]):
    """The same 302 from a dict in memory, nothing else (also profiled in process by
    benchmarks/profile_redirect.py)."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Route

    targets = {slug: f"https://example.com/landing/{slug}?utm=bench" for slug in slugs}

    async def follow(request):
        target = targets.get(request.path_params["slug"])
        if target is None:
            return PlainTextResponse("Not found", status_code=404)
        return RedirectResponse(target, status_code=302)

    return Starlette(routes=[Route("/l/{slug}", follow), Route("/{slug}", follow)])


def serve_bare(port: int, slugs: list[str]) -> None:
    """Child process: `bare_app` under uvicorn."""
    import uvicorn

    uvicorn.run(bare_app(slugs), port=port, **SERVER_FLAGS)


def spec_minimum(app, log):
    """`app` with the least SPEC §18 asks of every request, written as lean as it goes: a
    request id (returned in X-Request-ID), the request counted and timed in a Prometheus
    counter and histogram, one JSON log line with the app's keys, the four security headers
    (the app's own bytes), and the click kept in memory (nothing parses or writes it). No
    Host routing, no cache, no visitor cookie, no origin rule: what any implementation of
    the spec pays before its own work, the floor under orgportal's front door."""
    import json

    from prometheus_client import CollectorRegistry, Counter, Histogram

    from orgportal.api import security_headers

    registry = CollectorRegistry()
    labels = ("route", "method", "status_class")
    requests = Counter("http_requests", "requests", labels, registry=registry)
    durations = Histogram("http_duration", "durations", labels, registry=registry)
    counted = requests.labels("/l/{slug}", "GET", "3xx")
    timed = durations.labels("/l/{slug}", "GET", "3xx")
    headers = security_headers.for_path("/l/x")
    clicks: list[tuple] = []

    async def observed(scope, receive, send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        started = time.perf_counter()
        request_id = os.urandom(16).hex()
        clicks.append((scope["path"], scope["headers"], request_id))
        if len(clicks) > 10_000:  # a writer would have taken them
            clicks.clear()
        status = 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [*headers, (b"x-request-id", request_id.encode())]
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await app(scope, receive, sending)
        seconds = time.perf_counter() - started
        counted.inc()
        timed.observe(seconds)
        log.write(
            f'{{"time": "{datetime.now(UTC).isoformat()}", "level": "INFO", '
            f'"logger": "orgportal.http", "message": "GET /l/{{slug}} {status}", '
            f'"request_id": "{request_id}", "kind": "http", "method": "GET", '
            f'"route": "/l/{{slug}}", "path": {json.dumps(scope["path"])}, '
            f'"status": {status}, "duration_ms": {seconds * 1000:.2f}, '
            f'"client": "{scope["client"][0]}"}}\n'
        )

    return observed


def serve_floor(port: int, slugs: list[str], log_file: str) -> None:
    """Child process: `bare_app` inside `spec_minimum` under uvicorn."""
    import uvicorn

    log = open(log_file, "a", buffering=1 << 16)  # noqa: SIM115
    uvicorn.run(spec_minimum(bare_app(slugs), log), port=port, **SERVER_FLAGS)


def front_door():
    """The app's ASGI stack as `orgportal.orgportal` builds it, with a stand-in (404) for
    Reflex's own pages and websocket: Reflex mounts its app under the API
    (`api_transformer=[build_api(), RootShortLinks]`), and the top is the Gateway."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse

    from orgportal.api import build_api
    from orgportal.api.content import RootShortLinks
    from orgportal.api.gateway import Gateway

    async def reflex_pages(scope, receive, send) -> None:
        await PlainTextResponse("a page of the app", status_code=404)(scope, receive, send)

    api = build_api()
    api.mount("", reflex_pages)
    top = Starlette()
    top.mount("", RootShortLinks(api))
    return Gateway(top, host_routing=True)


def serve_app(port: int, log_file: str) -> None:
    """Child process: the orgportal front door, one JSON log line per request to a file."""
    import uvicorn

    from orgportal.adapters import logs

    app = front_door()
    config = uvicorn.Config(app, port=port, **SERVER_FLAGS)
    server = uvicorn.Server(config)
    # after uvicorn configured its own logging, as the app's lifespan task does
    config.load()
    logs.configure(stream=open(log_file, "a", buffering=1 << 16))  # noqa: SIM115
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the end of the run
        server.run()


async def _load(
    url: str, seconds: float, concurrency: int, slugs: list[str], host: str | None
) -> tuple[int, int, list[float]]:
    done, failed, latencies = 0, 0, []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    rng = random.Random(1)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                headers = {"User-Agent": rng.choice(AGENTS), "Referer": rng.choice(REFERRERS)}
                headers = {k: v for k, v in headers.items() if v}
                if host:
                    headers["Host"] = host
                began = time.perf_counter()
                target = url.format(slug=rng.choice(slugs))
                async with http.get(target, headers=headers, allow_redirects=False) as response:
                    await response.read()
                    latencies.append(time.perf_counter() - began)
                    if response.status == 302:
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed, latencies


@dataclass
class Measured:
    rate: float  # redirects per second
    p99: float  # seconds
    sent: int  # redirects answered, warm-up included


def measure(base: str, path: str, args, slugs: list[str], host: str | None = None) -> Measured:
    """Every hot slug once, one second of load (the warm-up), then SECONDS measured."""
    url = base + path
    touched = asyncio.run(_touch(url, slugs, host))
    warm, _, _ = asyncio.run(_load(url, 1.0, args.concurrency, slugs, host))
    started = time.perf_counter()
    done, failed, latencies = asyncio.run(_load(url, args.seconds, args.concurrency, slugs, host))
    elapsed = time.perf_counter() - started
    if failed:
        raise SystemExit(f"{url} (Host {host}): {failed} answers were not 302")
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    return Measured(done / elapsed, p99, done + warm + touched)


async def _touch(url: str, slugs: list[str], host: str | None) -> int:
    """Follow each slug once (8 at a time): each must answer 302."""
    headers = {"User-Agent": AGENTS[0], **({"Host": host} if host else {})}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as http:

        async def one(slug: str) -> None:
            async with http.get(
                url.format(slug=slug), headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                if response.status != 302:
                    raise SystemExit(f"{url.format(slug=slug)}: {response.status}")

        await asyncio.gather(*(one(slug) for slug in slugs))
    return len(slugs)


class Server:
    """`benchmarks/redirects.py --serve KIND` in its own process, stopped with Ctrl-C (so
    uvicorn shuts down and the queue's last clicks are written by its exit hook; after
    SIGTERM uvicorn re-raises the signal: no exit hooks)."""

    def __init__(self, kind: str, env: dict, extra: list[str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port", str(self.port), *extra],
            env=env,
            cwd=ROOT,
        )

    def __enter__(self) -> "Server":
        _wait(self.base + "/healthz")  # the app's probe; the bare app's 404
        return self

    def __exit__(self, *_exc) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)


def _wait(url: str) -> None:
    """Until the server answers `url` (a path that records no click)."""
    import httpx

    for _ in range(600):
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not answer")


def all_clicks(engine) -> int:
    from sqlmodel import Session, func, select

    from orgportal.models import Click

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Click)).one()


def redirects(engine, env: dict, args, tmp: Path) -> None:
    rng = random.Random(7)
    slugs = [slug_of(rng.randrange(args.links)) for _ in range(args.hot)]
    slugs_file = tmp / "slugs.txt"
    slugs_file.write_text("\n".join(slugs))
    log_file = tmp / "app.log"
    print(
        f"1. redirects, {args.links:,} links in the table, {args.hot:,} hot slugs, "
        f"{args.concurrency} connections, {args.seconds:g} s each (after 1 s warm-up)"
    )
    with Server("bare", env, ["--slugs", str(slugs_file)]) as bare:
        base = measure(bare.base, "/l/{slug}", args, slugs)
    floor_log = ["--slugs", str(slugs_file), "--log-file", str(tmp / "floor.log")]
    with Server("floor", env, floor_log) as floor:
        spec = measure(floor.base, "/l/{slug}", args, slugs)
    before = all_clicks(engine)
    runs = {}
    with Server("app", env, ["--log-file", str(log_file)]) as app:
        runs["/l/{slug}"] = measure(app.base, "/l/{slug}", args, slugs)
        runs["/{slug}"] = measure(app.base, "/{slug}", args, slugs)
        runs["custom domain /{slug}"] = measure(app.base, "/{slug}", args, slugs, CUSTOM_HOST)
    stored = all_clicks(engine) - before
    sent = sum(m.sent for m in runs.values())
    lines = log_file.read_text().count("\n")
    print(f"   {'':32} {'redirects/s':>12} {'p99 ms':>8} {'× bare rate':>12} {'× bare p99':>11}")
    print(f"   {'bare Starlette, dict':32} {base.rate:12.0f} {base.p99 * 1000:8.2f}")
    print(
        f"   {'bare + SPEC §18 minimum':32} {spec.rate:12.0f} {spec.p99 * 1000:8.2f} "
        f"{spec.rate / base.rate:12.2f} {spec.p99 / base.p99:11.2f}"
    )
    for name, m in runs.items():
        print(
            f"   {'orgportal ' + name:32} {m.rate:12.0f} {m.p99 * 1000:8.2f} "
            f"{m.rate / base.rate:12.2f} {m.p99 / base.p99:11.2f}"
        )
    print("   targets: rate ≥ 0.8 × bare, p99 ≤ 2 × bare")
    print(f"   clicks stored: {stored:,} of {sent:,} redirects; JSON log lines: {lines:,}")
    if stored != sent:
        raise SystemExit(f"{sent - stored} clicks were not stored")


def recording_modes(engine, env: dict, args, tmp: Path) -> None:
    """`/l/{slug}` of the orgportal front door per CLICK_RECORDING mode."""
    rng = random.Random(8)
    slugs = [slug_of(rng.randrange(args.links)) for _ in range(args.hot)]
    print("1b. /l/{slug} by CLICK_RECORDING mode")
    rates = {}
    for mode in ("off", "queued", "inline"):
        before = all_clicks(engine)
        mode_env = {**env, "CLICK_RECORDING": mode}
        with Server("app", mode_env, ["--log-file", str(tmp / f"app-{mode}.log")]) as app:
            measured = measure(app.base, "/l/{slug}", args, slugs)
        rates[mode] = measured.rate
        stored = all_clicks(engine) - before
        note = "" if mode == "off" else f"   clicks stored: {stored:,} of {measured.sent:,}"
        print(f"   recording {mode:>6}: {measured.rate:8.0f} redirects/s{note}")
        if mode != "off" and stored != measured.sent:
            raise SystemExit(f"{mode}: {measured.sent - stored} clicks were not stored")
    print(f"   ratio queued / off: {rates['queued'] / rates['off']:.2f}")
    print(f"   ratio inline / off: {rates['inline'] / rates['off']:.2f}")


# --- 2. analytics over 100 vs 1,000,000 clicks ------------------------------------------


def seed(engine, link, total: int, days: int = 90) -> float:
    """`total` click rows over `days` days and their daily rollups, in bulk inserts (what
    `clicks.record` would have written click by click). Returns the seconds it took."""
    from orgportal.models import Click, ClickRollup
    from orgportal.models.analytics import WEEKLY, week_of
    from orgportal.services.clicks import describe, referrer_host

    started = time.perf_counter()
    rng = random.Random(total)
    agents = [(a, describe(a)) for a in AGENTS if not describe(a).is_bot]  # clicks, no bots
    rollup: Counter = Counter()
    bots: Counter = Counter()
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    per_day = [total // days + (1 if i < total % days else 0) for i in range(days)]
    with engine.begin() as conn:
        for offset, count in enumerate(per_day):
            at = today - timedelta(days=offset)
            rows = []
            for _ in range(count):
                _agent, parsed = rng.choice(agents)
                referrer = referrer_host(rng.choice(REFERRERS))
                country = rng.choice(COUNTRIES)
                rows.append(
                    {
                        "token": secrets.token_urlsafe(16),
                        "link_id": link.id,
                        "organization_id": link.organization_id,
                        "owner_id": link.owner_id,
                        "clicked_at": at,
                        "referrer_host": referrer,
                        "browser": parsed.browser,
                        "os": parsed.os,
                        "device": parsed.device,
                        "country": country,
                        "visitor_id": secrets.token_urlsafe(8),
                        "is_bot": parsed.is_bot,
                    }
                )
                day = at.date()
                if parsed.is_bot:
                    bots[day] += 1
                    continue
                rollup[(day, "total", "")] += 1
                for dimension, value in (
                    ("referrer", referrer),
                    ("browser", parsed.browser),
                    ("os", parsed.os),
                    ("device", parsed.device),
                    ("country", country),
                ):
                    rollup[(day, dimension, value)] += 1
                    rollup[(week_of(day), WEEKLY[dimension], value)] += 1
            for start in range(0, len(rows), 20_000):
                conn.execute(Click.__table__.insert(), rows[start : start + 20_000])
        for day in bots:
            rollup.setdefault((day, "total", ""), 0)
        rollup_rows = [
            {
                "link_id": link.id,
                "organization_id": link.organization_id,
                "owner_id": link.owner_id,
                "day": day,
                "dimension": dimension,
                "value": value,
                "clicks": clicks,
                "bots": bots[day] if dimension == "total" else 0,
                "conversions": 0,
                "conversion_value": 0.0,
            }
            for (day, dimension, value), clicks in rollup.items()
        ]
        for start in range(0, len(rollup_rows), 20_000):
            conn.execute(ClickRollup.__table__.insert(), rollup_rows[start : start + 20_000])
    return time.perf_counter() - started


def page_load_seconds(engine, user, org, link, runs: int) -> float:
    """The /analytics page's data for one link over 90 days (what its load runs)."""
    from sqlmodel import Session

    from orgportal.services import analytics

    start, end = analytics.date_range(90)
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        with Session(engine) as session:
            report = analytics.workspace_report(
                session, user=user, organization_id=org.id, start=start, end=end, link_id=link.id
            )
        timings.append(time.perf_counter() - began)
        assert report.clicks >= 0
    return statistics.median(timings)


def page_load_event_seconds(engine, user, org, link, runs: int) -> float:
    """The whole /analytics?days=90&link=<slug> page load event as the browser's websocket
    runs it (`AppState.load_page`: the session checked, the top bar, the filters, the report
    and the state filled), without the network."""
    from reflex import constants
    from reflex.state import State
    from sqlmodel import Session

    from orgportal import db, routes
    from orgportal.orgportal import app  # noqa: F401  (declares the pages)
    from orgportal.services import accounts
    from orgportal.state.base import AppState

    db.engine = lambda: engine
    with Session(engine, expire_on_commit=False) as session:
        ticket = accounts.issue_sign_in_ticket(session, user, org.id, browser="bench")
        raw, _ = accounts.open_session(session, ticket, browser="bench")
        session.commit()
    path, query = routes.ANALYTICS, {"days": "90", "link": link.slug}
    timings = []
    for _ in range(runs):
        root = State(_reflex_internal_init=True)
        root._update_router_vars(
            {
                constants.RouteVar.HEADERS: {"cookie": f"{routes.SESSION_COOKIE}={raw}"},
                constants.RouteVar.PATH: path,
                constants.RouteVar.ORIGIN: f"{path}?days=90&link={link.slug}",
                constants.RouteVar.QUERY: query,
            },
            {},
        )
        state = root.get_substate(AppState.get_full_name().split(".")[1:])
        began = time.perf_counter()
        asyncio.run(AppState.load_page.fn(state, path))
        root.get_delta()  # what is sent to the browser
        timings.append(time.perf_counter() - began)
    from orgportal.state.analytics import AnalyticsState

    shown = root.get_substate(AnalyticsState.get_full_name().split(".")[1:])
    assert shown.link_filter == link.slug and not shown.error, (shown.link_filter, shown.error)
    return statistics.median(timings)


def api_seconds(client, key: str, link, runs: int) -> tuple[float, int]:
    timings, clicks = [], 0
    start = (datetime.now(UTC) - timedelta(days=89)).date().isoformat()
    for _ in range(runs):
        began = time.perf_counter()
        answer = client.get(
            f"/api/links/{link.id}/stats?from={start}", headers={"Authorization": f"Bearer {key}"}
        )
        timings.append(time.perf_counter() - began)
        answer.raise_for_status()
        clicks = answer.json()["clicks"]
    return statistics.median(timings), clicks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--hot", type=int, default=1000, help="slugs the load picks from")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default SQLite)")
    parser.add_argument("--redis-url", help="the live bus (default: in-process)")
    parser.add_argument("--recording-modes", action="store_true")
    parser.add_argument("--analytics", action="store_true")
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--serve", choices=["bare", "floor", "app"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--slugs")
    parser.add_argument("--log-file")
    args = parser.parse_args()
    if args.serve == "bare":
        return serve_bare(args.port, Path(args.slugs).read_text().split())
    if args.serve == "floor":
        return serve_floor(args.port, Path(args.slugs).read_text().split(), args.log_file)
    if args.serve == "app":
        return serve_app(args.port, args.log_file)

    tmp = Path(tempfile.mkdtemp(prefix="orgportal-bench-"))
    try:
        run(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the 1,000,000-click database is ~400 MB


def run(tmp: Path, args) -> None:
    db_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = db_url
    os.environ.pop("REDIS_URL", None)
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    if args.database_url:
        _empty(db_url)
    engine, user, org, (_follow, small, large), key = prepare(db_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLICK_RECORDING": "queued"}
    seeded = seed_links(engine, user, org, args.links)
    print(f"database: {engine.dialect.name}; seeded {args.links:,} links in {seeded:.1f} s")
    redirects(engine, env, args, tmp)
    if args.recording_modes:
        recording_modes(engine, env, args, tmp)
    if args.analytics:
        analytics(engine, user, org, small, large, key, args)


def _empty(db_url: str) -> None:
    """A scratch PostgreSQL database, emptied (its tables are created again)."""
    from sqlalchemy import text

    from orgportal.db import make_engine

    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def analytics(engine, user, org, small, large, key, args) -> None:
    print(f"2. analytics of one link over 90 days, median of {args.runs} loads")
    seeded_small = seed(engine, small, 100)
    seeded_large = seed(engine, large, args.clicks)
    print(f"   seeded 100 clicks in {seeded_small:.2f} s, {args.clicks:,} in {seeded_large:.1f} s")
    from fastapi.testclient import TestClient

    from orgportal.api import build_api
    from orgportal.config import settings

    settings.api_rate_limit = 10**9
    client = TestClient(build_api())
    page_small = page_load_seconds(engine, user, org, small, args.runs)
    page_large = page_load_seconds(engine, user, org, large, args.runs)
    api_small, n_small = api_seconds(client, key, small, args.runs)
    api_large, n_large = api_seconds(client, key, large, args.runs)
    event_small = page_load_event_seconds(engine, user, org, small, args.runs)
    event_large = page_load_event_seconds(engine, user, org, large, args.runs)
    print(f"   page load event, {n_small:>9,} clicks: {event_small * 1000:7.2f} ms")
    print(f"   page load event, {n_large:>9,} clicks: {event_large * 1000:7.2f} ms")
    print(f"   ratio: {event_large / event_small:.2f}   (target ≤ 1.5)")
    print(f"   page data, {n_small:>9,} clicks: {page_small * 1000:7.2f} ms")
    print(f"   page data, {n_large:>9,} clicks: {page_large * 1000:7.2f} ms")
    print(f"   ratio: {page_large / page_small:.2f}   (target ≤ 1.5)")
    print(f"   GET /api/links/{{id}}/stats, {n_small:>9,} clicks: {api_small * 1000:7.2f} ms")
    print(f"   GET /api/links/{{id}}/stats, {n_large:>9,} clicks: {api_large * 1000:7.2f} ms")
    print(f"   ratio: {api_large / api_small:.2f}   (target ≤ 1.5)")


if __name__ == "__main__":
    main()
