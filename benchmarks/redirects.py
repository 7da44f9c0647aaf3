"""Short-link redirects with and without click recording, and analytics over 100 vs
1,000,000 clicks (SPEC §14: recording must not slow the redirect; rollups keep the page fast).

1. Redirects per second of `GET /l/{slug}` (302), served by uvicorn (one worker, its own
   process) on a temp SQLite file, loaded from this process with aiohttp (CONCURRENCY
   connections, SECONDS each, browser-like User-Agents and referrers), once per
   CLICK_RECORDING mode: `off` (the same redirect, nothing recorded), `queued` (the
   default: clicks written in batches by a background thread) and `inline` (in the
   redirect's own transaction). Afterwards the clicks stored are counted: every redirect
   of a recording run must be there.
2. Analytics of one link with 100 clicks and one with 1,000,000 clicks (90 days of click
   rows and their daily rollups, seeded with bulk inserts): what the /analytics page load
   runs (`analytics.workspace_report` for the link, 90 days) and the REST
   `GET /api/links/{id}/stats`, median of RUNS calls each.

    .venv/bin/python benchmarks/redirects.py [--seconds 5] [--concurrency 16] [--clicks 1000000]
"""

import argparse
import asyncio
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
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
        form = accounts.Registration("bench@example.com", "correct horse battery", "B", "U")
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
        raw, _ = api_keys.create_key(session, user=user, name="bench", active_org_id=org.id)
        session.commit()
    return engine, user, org, made, raw


# --- 1. redirects -----------------------------------------------------------------------


def serve(port: int) -> None:
    """Child process: the redirect route as the app mounts it, under uvicorn."""
    import uvicorn
    from fastapi import FastAPI

    from orgportal.api import content

    app = FastAPI()
    app.include_router(content.router)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _load(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    done, failed = 0, 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    rng = random.Random(1)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                headers = {"User-Agent": rng.choice(AGENTS), "Referer": rng.choice(REFERRERS)}
                headers = {k: v for k, v in headers.items() if v}
                async with http.get(url, headers=headers, allow_redirects=False) as response:
                    await response.read()
                    if response.status == 302:
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed


def redirects_per_second(mode: str, env: dict, slug: str, args) -> tuple[float, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port)],
        env={**env, "CLICK_RECORDING": mode},
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}/l/{slug}"
    try:
        _wait(url)
        warm, _ = asyncio.run(_load(url, 1.0, args.concurrency))
        started = time.perf_counter()
        done, failed = asyncio.run(_load(url, args.seconds, args.concurrency))
        elapsed = time.perf_counter() - started
        if failed:
            raise SystemExit(f"{mode}: {failed} redirects failed")
        return done / elapsed, done + warm + 1
    finally:
        # Ctrl-C: uvicorn shuts down and Python exits normally, so the queue's last batch is
        # written by its exit hook (after SIGTERM uvicorn re-raises the signal: no exit hooks)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def _wait(url: str) -> None:
    import httpx

    for _ in range(100):
        try:
            if httpx.get(url, timeout=2).status_code == 302:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not answer")


def stored_clicks(engine, link_id: int) -> int:
    from sqlmodel import Session, func, select

    from orgportal.models import Click

    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(Click).where(Click.link_id == link_id)
        ).one()


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
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        return serve(args.port)

    tmp = Path(tempfile.mkdtemp(prefix="orgportal-bench-"))
    try:
        run(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the 1,000,000-click database is ~400 MB


def run(tmp: Path, args) -> None:
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = db_url
    engine, user, org, (follow, small, large), key = prepare(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}

    print(f"1. GET /l/{{slug}} → 302, {args.concurrency} connections, {args.seconds:g} s each")
    rates = {}
    for mode in ("off", "queued", "inline"):
        before = stored_clicks(engine, follow.id)
        rates[mode], sent = redirects_per_second(mode, env, follow.slug, args)
        stored = stored_clicks(engine, follow.id) - before
        note = "" if mode == "off" else f"   clicks stored: {stored:,} of {sent:,} redirects"
        print(f"   recording {mode:>6}: {rates[mode]:8.0f} redirects/s{note}")
        if mode != "off" and stored != sent:
            raise SystemExit(f"{mode}: {sent - stored} clicks were not stored")
    print(f"   ratio queued / off: {rates['queued'] / rates['off']:.2f}   (target ≥ 0.8)")
    print(f"   ratio inline / off: {rates['inline'] / rates['off']:.2f}")

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
