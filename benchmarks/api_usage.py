"""Requests per second of `GET /api/organizations/{id}/usage` next to a bare FastAPI endpoint.

Why: the usage endpoint is what monitoring scripts poll. This shows what one request costs
on top of FastAPI itself. A poll is served from the worker's caches (API key
→ caller, the caller's access to the organization, the usage read and its JSON, all dropped
by the live bus on a change), so what remains is the per-key rate limiter and the checks on
cached data. The bare endpoints return the very same JSON from memory, through the same
server: once as a plain `def` (FastAPI runs it in its threadpool) and once as `async def`.

All run one at a time under uvicorn (one worker, own process) on a temp SQLite database;
the load comes from this process with aiohttp (CONCURRENCY connections for SECONDS each).

    .venv/bin/python benchmarks/api_usage.py [--seconds 5] [--concurrency 16]
        [--redis redis://127.0.0.1:6379/7]   # rate limit and live bus in Redis
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str) -> tuple[str, int]:
    """A user, an organization with a link and a pending invite, and an API key."""
    from sqlmodel import Session, SQLModel

    from orgportal.db import make_engine
    from orgportal.services import accounts, api_keys, invitations, links, organizations

    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        form = accounts.Registration("bench@example.com", "correct horse battery", "B", "U")
        user = accounts.register(session, form, confirmed=True)
        org = organizations.create_organization(session, user=user, name="Bench Co")
        links.create_link(session, user=user, organization_id=org.id, target_url="https://a.io")
        invitations.create_invite(
            session, user=user, organization_id=org.id, email="x@example.com", role="agent"
        )
        raw, _ = api_keys.create_key(session, user=user, name="bench", active_org_id=org.id)
        session.commit()
    engine.dispose()
    return raw, org.public_id


def serve(kind: str, port: int, payload: str) -> None:
    """Child process: the real API (build_api) or a bare FastAPI app, under uvicorn."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response

    from orgportal.config import settings

    settings.api_rate_limit = 10**9  # measure the endpoint, not the limiter's refusals
    if kind == "real":
        from orgportal.api import build_api

        app = build_api()
    elif kind == "bare":
        app = FastAPI()

        @app.get("/api/organizations/{organization_id}/usage")
        def usage(organization_id: str) -> Response:
            return Response(payload, media_type="application/json")

    else:  # the same, as a coroutine: no threadpool hop, FastAPI's fastest plain endpoint
        app = FastAPI()

        @app.get("/api/organizations/{organization_id}/usage")
        async def usage_async(organization_id: str) -> Response:
            return Response(payload, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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


def measure(kind: str, env: dict, url_path: str, headers: dict, args) -> tuple[float, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port)], env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}{url_path}"
    try:
        body = _wait(url, headers)
        asyncio.run(_load(url, headers, 1.0, args.concurrency))  # warm-up
        started = time.perf_counter()
        done, failed = asyncio.run(_load(url, headers, args.seconds, args.concurrency))
        elapsed = time.perf_counter() - started
        if failed:
            raise SystemExit(f"{kind}: {failed} requests failed")
        return done / elapsed, body
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="run the real API with this REDIS_URL (rate limit and live bus in Redis)",
    )
    parser.add_argument("--serve", choices=["real", "bare", "bare_async"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, os.environ.get("BENCH_PAYLOAD", ""))

    tmp = Path(tempfile.mkdtemp(prefix="orgportal-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = db_url
    key, org_id = prepare(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    path = f"/api/organizations/{org_id}/usage"
    headers = {"Authorization": f"Bearer {key}"}

    real_env = {**env, "REDIS_URL": args.redis} if args.redis else env
    real, payload = measure("real", real_env, path, headers, args)
    bare_env = {**env, "BENCH_PAYLOAD": payload}
    bare, same = measure("bare", bare_env, path, headers, args)
    bare_async, same_async = measure("bare_async", bare_env, path, headers, args)
    assert same == payload == same_async, (same, payload, same_async)
    where = "Redis rate limit + bus" if args.redis else "in-process rate limit + bus"
    print(f"payload: {payload}")
    print(f"GET /api/organizations/{{id}}/usage (API key, SQLite, {where}): {real:8.0f} req/s")
    print(f"bare FastAPI endpoint (def), same JSON from memory:       {bare:8.0f} req/s")
    print(f"bare FastAPI endpoint (async def), same JSON from memory: {bare_async:8.0f} req/s")
    print(f"ratio real / bare (def):       {real / bare:.2f}  ({bare / real:.1f}x slower)")
    print(
        f"ratio real / bare (async def): {real / bare_async:.2f}  ({bare_async / real:.1f}x slower)"
    )
    print(f"({args.concurrency} connections, {args.seconds:g} s each, one uvicorn worker)")


if __name__ == "__main__":
    main()
