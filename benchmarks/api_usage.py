"""Requests per second of the REST API's hot reads next to bare FastAPI endpoints.

Why: these are what scripts and dashboards poll: an organization's usage and details, the
links list, a link's stats. This shows what one request costs on top of FastAPI itself.
A poll is served from the worker's caches (API key → caller, the caller's access to the
organization, the read's JSON, all dropped by the live bus on a change), so what remains is
the per-key rate limiter and the checks on cached data. The bare endpoints return each
route's very same JSON from memory, through the same server: once as a plain `def`
(FastAPI runs it in its threadpool) and once as `async def`.

All run one at a time under uvicorn (one worker, own process) on a temp SQLite database;
the load comes from this process with aiohttp (CONCURRENCY connections for SECONDS each).

    .venv/bin/python benchmarks/api_usage.py [--seconds 5] [--concurrency 16] [--rounds 3]
        [--routes usage,organization,links,link stats]
        [--redis redis://127.0.0.1:6379/7]   # rate limit and live bus in Redis
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str) -> tuple[str, str, int]:
    """A user, an organization with a link and a pending invite, and an API key."""
    from sqlmodel import Session, SQLModel

    from orgportal.db import make_engine
    from orgportal.services import accounts, api_keys, invitations, links, organizations

    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        form = accounts.Registration("bench@example.com", PASSWORD, "B", "U")
        user = accounts.register(session, form, confirmed=True)
        org = organizations.create_organization(session, user=user, name="Bench Co")
        link = links.create_link(
            session, user=user, organization_id=org.id, target_url="https://a.io"
        )
        invitations.create_invite(
            session, user=user, organization_id=org.id, email="x@example.com", role="agent"
        )
        raw, _ = api_keys.create_key(
            session, user=user, name="bench", active_org_id=org.id, password=PASSWORD
        )
        session.commit()
    engine.dispose()
    return raw, org.public_id, link.id


# The routes measured, as the bare apps declare them (the real API has them all).
ROUTES = {
    "usage": "/api/organizations/{organization_id}/usage",
    "organization": "/api/organizations/{organization_id}",
    "links": "/api/links",
    "link stats": "/api/links/{link_id}/stats",
}


def serve(kind: str, port: int, payloads: dict[str, str]) -> None:
    """Child process: the real API (build_api) or a bare FastAPI app, under uvicorn."""
    import uvicorn
    from fastapi import FastAPI

    from orgportal.config import settings

    settings.api_rate_limit = 10**9  # measure the endpoint, not the limiter's refusals
    if kind == "real":
        from orgportal.api import build_api

        app = build_api()
    else:
        app = FastAPI()
        for name, path in ROUTES.items():
            # `def` runs in FastAPI's threadpool; `async def` needs no hop: FastAPI's fastest
            made = _bare if kind == "bare" else _bare_async
            app.add_api_route(path, made(payloads[name].encode()))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _bare(payload: bytes):
    """A plain endpoint answering `payload` (no parameters: nothing to validate)."""
    from fastapi.responses import Response

    def endpoint() -> Response:
        return Response(payload, media_type="application/json")

    return endpoint


def _bare_async(payload: bytes):
    from fastapi.responses import Response

    async def endpoint() -> Response:
        return Response(payload, media_type="application/json")

    return endpoint


async def _load(url: str, headers: dict, seconds: float, concurrency: int) -> tuple[int, int]:
    done, failed = 0, 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                async with http.get(url) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed


class Server:
    """One server of `kind` in its own process (uvicorn, one worker)."""

    def __init__(self, kind: str, env: dict) -> None:
        self.kind, self.port = kind, _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port", str(self.port)],
            env=env,
            cwd=ROOT,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def load(self, path: str, headers: dict, args) -> tuple[float, float]:
        """`path` under load for args.seconds: (requests/s, the server process's CPU seconds
        per request). CPU per request is the steadier figure on a busy machine (the rate
        also measures whatever else runs)."""
        url = self.url(path)
        asyncio.run(_load(url, headers, 1.0, args.concurrency))  # warm-up
        process = psutil.Process(self.proc.pid)
        cpu_before = sum(process.cpu_times()[:2])
        started = time.perf_counter()
        done, failed = asyncio.run(_load(url, headers, args.seconds, args.concurrency))
        elapsed = time.perf_counter() - started
        if failed:
            raise SystemExit(f"{self.kind} {path}: {failed} requests failed")
        return done / elapsed, (sum(process.cpu_times()[:2]) - cpu_before) / done

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _wait(url: str, headers: dict) -> str:
    import httpx

    for _ in range(100):
        try:
            response = httpx.get(url, headers=headers, timeout=2)
            response.raise_for_status()
            return response.text
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="run the real API with this REDIS_URL (rate limit and live bus in Redis)",
    )
    parser.add_argument("--serve", choices=["real", "bare", "bare_async"])
    parser.add_argument("--port", type=int)
    parser.add_argument(
        "--routes",
        default=",".join(ROUTES),
        help=f"comma-separated subset of: {', '.join(ROUTES)}",
    )
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, json.loads(os.environ.get("BENCH_PAYLOADS", "{}")))

    tmp = Path(tempfile.mkdtemp(prefix="orgportal-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = db_url
    key, org_id, link_id = prepare(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    names = [name for name in args.routes.split(",") if name]
    paths = {name: ROUTES[name].format(organization_id=org_id, link_id=link_id) for name in names}
    headers = {"Authorization": f"Bearer {key}"}

    real_env = {**env, "REDIS_URL": args.redis} if args.redis else env
    real = Server("real", real_env)
    servers: list[Server] = [real]
    try:
        payloads = {name: _wait(real.url(path), headers) for name, path in paths.items()}
        bare_env = {**env, "BENCH_PAYLOADS": json.dumps({n: payloads.get(n, "") for n in ROUTES})}
        servers += [Server("bare", bare_env), Server("bare_async", bare_env)]
        for server in servers[1:]:
            same = {name: _wait(server.url(path), headers) for name, path in paths.items()}
            assert same == payloads, (server.kind, same, payloads)
        # Rounds interleave the three servers route by route, so that each ratio compares
        # loads taken a few seconds apart; the medians of the rounds are printed.
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for name, path in paths.items():
                for server in servers:
                    runs.setdefault((server.kind, name), []).append(
                        server.load(path, headers, args)
                    )
    finally:
        for server in servers:
            server.stop()
    report(runs, names, args)


def report(runs: dict[tuple[str, str], list[tuple[float, float]]], names: list[str], args) -> None:
    def median(kind: str, name: str, index: int) -> float:
        return statistics.median(run[index] for run in runs[(kind, name)])

    def ratio(name: str) -> float:
        """The median over rounds of real ÷ bare `async def` within each round."""
        pairs = zip(runs[("real", name)], runs[("bare_async", name)], strict=True)
        return statistics.median(real[0] / bare[0] for real, bare in pairs)

    where = "Redis rate limit + bus" if args.redis else "in-process rate limit + bus"
    print(f"API key, SQLite, {where}; {args.concurrency} connections, {args.seconds:g} s each,")
    print(f"one uvicorn worker each; {args.rounds} rounds, interleaved; medians of the rounds.")
    print("bare: FastAPI endpoints returning the same JSON from memory")
    print()
    print(
        "| route | real req/s | bare def req/s | bare async def req/s | real ÷ async "
        "(median of rounds) | CPU µs/req real | async | async ÷ real |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        real_cpu, async_cpu = median("real", name, 1), median("bare_async", name, 1)
        print(
            f"| GET {ROUTES[name]} | {median('real', name, 0):.0f} | "
            f"{median('bare', name, 0):.0f} | {median('bare_async', name, 0):.0f} | "
            f"{ratio(name):.2f} | {real_cpu * 1e6:.0f} | {async_cpu * 1e6:.0f} | "
            f"{async_cpu / real_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
