"""Where a cached short-link redirect's time goes, in process: no sockets, no HTTP parser.

Builds the same front door as `benchmarks/redirects.py` (`front_door()`: the Gateway with
host routing, request id, metrics, one JSON log line per request to a file, security
headers, client address, in front of the routes the app mounts) on a temp SQLite file with
a few links and a verified custom domain, then calls the ASGI callable directly with
browser-like request scopes, N times per path after a warm-up that fills the caches. The
bare side is the same Starlette app `redirects.py` serves (a 302 from a dict). Prints µs
per request for both and the ratio; `--profile` adds a cProfile of the orgportal side.

    .venv/bin/python benchmarks/profile_redirect.py [--requests 20000] [--profile]
        [--path l|root|custom]
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKS = 1000


def scope_for(path: str, host: str, rng: random.Random) -> dict:
    """What uvicorn hands the app for an aiohttp GET like the benchmark's."""
    from redirects import AGENTS, REFERRERS  # the load's own headers

    headers = [
        (b"host", host.encode()),
        (b"user-agent", rng.choice(AGENTS).encode()),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
    ]
    referrer = rng.choice(REFERRERS)
    if referrer:
        headers.append((b"referer", referrer.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000 + rng.randrange(10000)),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def drive(app, scopes: list[dict]) -> float:
    """Seconds for every scope once, one after the other; each must be a 302."""

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for scope in scopes:
        await app(dict(scope), receive, send)
        await asyncio.sleep(0)  # as between uvicorn's tasks: the bus listener's heartbeats run
    elapsed = time.perf_counter() - started
    wrong = [s for s in statuses if s != 302]
    if wrong or len(statuses) != len(scopes):
        raise SystemExit(f"{len(wrong)} answers were not 302: {wrong[:5]}")
    return elapsed




async def main_async(args, tmp: Path) -> None:
    import redirects as bench

    from orgportal.adapters import logs

    engine, user, org, _made, _key = bench.prepare(os.environ["DATABASE_URL"])
    bench.seed_links(engine, user, org, LINKS)
    slugs = [bench.slug_of(i) for i in range(LINKS)]
    app = bench.front_door()
    log_file = tmp / "app.log"
    logs.configure(stream=open(log_file, "a", buffering=1 << 16))  # noqa: SIM115
    rng = random.Random(1)
    kinds = {
        "l": ("/l/{slug}", "127.0.0.1:8000"),
        "root": ("/{slug}", "127.0.0.1:8000"),
        "custom": ("/{slug}", bench.CUSTOM_HOST),
    }
    chosen = list(kinds) if args.path == "all" else [args.path]
    bare = bench.bare_app(slugs)
    # the first request starts the cache's bus listener; it serves once its heartbeat is heard
    await drive(app, [scope_for("/l/" + slugs[0], "127.0.0.1:8000", rng)])
    await asyncio.sleep(1.0)
    for kind in chosen:
        template, host = kinds[kind]
        scopes = [
            scope_for(template.format(slug=rng.choice(slugs)), host, rng)
            for _ in range(args.requests)
        ]
        await drive(app, [scope_for(template.format(slug=s), host, rng) for s in slugs])  # fill
        bare_scopes = [scope_for("/l/" + s["path"].rsplit("/", 1)[1], host, rng) for s in scopes]
        bare_seconds = min([await drive(bare, bare_scopes) for _ in range(args.rounds)])
        ours = []
        for _ in range(args.rounds):
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
            ours.append(await drive(app, scopes))
            if args.profile:
                profiler.disable()
                print(f"--- profile, {kind} ({template} on {host}) ---")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        ours_seconds = min(ours)
        per = 1e6 / args.requests
        print(
            f"{kind:>6} {template:>10} on {host:<18} orgportal {ours_seconds * per:7.1f} µs"
            f"  bare {bare_seconds * per:6.1f} µs  ratio {ours_seconds / bare_seconds:5.2f}"
        )
    from orgportal.api import click_recording

    click_recording.queue().stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", choices=["l", "root", "custom", "all"], default="all")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.profile:
        args.rounds = 1
    tmp = Path(tempfile.mkdtemp(prefix="orgportal-profile-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("CLICK_RECORDING", "queued")
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    asyncio.run(main_async(args, tmp))


if __name__ == "__main__":
    main()
