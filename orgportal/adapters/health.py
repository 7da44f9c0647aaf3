"""Readiness checks (SPEC §18): can this worker reach what it needs to serve requests?

`readiness()` asks, at once and each within TIMEOUT seconds, the database (`SELECT 1`),
Redis when REDIS_URL is set (`PING`) and the object store when STORAGE_URL is set (a
`HeadBucket` of STORAGE_BUCKET), and answers each one's state: "ok", "not configured", or
"down: <short reason>". A hung service makes its check time out; it never hangs the probe.

The blocking checks (database, object store) run on a small pool of their own, and a check
still running from an earlier probe is awaited again rather than started twice: a database
that hangs for minutes holds at most one thread per check, never the server's threadpool.
"""

import asyncio
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

from sqlalchemy import text

from orgportal.config import settings

log = logging.getLogger(__name__)
TIMEOUT = 2.0  # seconds, per check
OK = "ok"
NOT_CONFIGURED = "not configured"

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readiness")
_running: dict[str, Future] = {}


def _check_database() -> None:
    from orgportal import db

    with db.engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_storage() -> None:
    _storage_client().head_bucket(Bucket=settings.storage_bucket)


@cache
def _storage_client_for(url: str, key_id: str, secret: str, region: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        region_name=region,
        config=Config(
            connect_timeout=TIMEOUT / 2, read_timeout=TIMEOUT / 2, retries={"max_attempts": 1}
        ),
    )


def _storage_client():
    return _storage_client_for(
        settings.storage_url,
        settings.storage_access_key_id,
        settings.storage_secret_access_key,
        settings.storage_region,
    )


async def _in_pool(name: str, check) -> None:
    future = _running.get(name)
    if future is None or future.done():
        future = _running[name] = _pool.submit(check)
    await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), TIMEOUT)


async def _check_redis(url: str) -> None:
    import redis.asyncio as aioredis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = aioredis.Redis.from_url(
        url,
        socket_connect_timeout=TIMEOUT / 2,
        socket_timeout=TIMEOUT / 2,
        retry=Retry(NoBackoff(), 0),
        client_name="orgportal-readiness",
    )
    try:
        await asyncio.wait_for(client.ping(), TIMEOUT)
    finally:
        await client.aclose()


def _reason(exc: BaseException) -> str:
    """A short, non-secret reason: the error's kind (details go to the log, not to whoever
    asks /readyz)."""
    if isinstance(exc, TimeoutError):
        return f"down: timed out after {TIMEOUT:g} s"
    cause: BaseException | None = exc
    while cause is not None:  # the operating system's word for it, when there is one
        if isinstance(cause, OSError) and cause.errno:
            return f"down: {type(exc).__name__} ({os.strerror(cause.errno).lower()})"
        cause = cause.__cause__ or cause.__context__
    return f"down: {type(exc).__name__}"


async def _state(name: str, check) -> str:
    try:
        await check
    except Exception as exc:
        log.warning("readiness: %s is down", name, exc_info=True)
        return _reason(exc)
    return OK


async def readiness() -> dict[str, str]:
    """Each dependency's state, checked concurrently; "ok" everywhere means ready."""
    checks = {"database": _in_pool("database", _check_database)}
    checks["redis"] = _check_redis(settings.redis_url) if settings.redis_url else None
    checks["storage"] = _in_pool("storage", _check_storage) if settings.storage_url else None
    names = [name for name, check in checks.items() if check is not None]
    states = await asyncio.gather(*(_state(name, checks[name]) for name in names))
    answer = dict.fromkeys(checks, NOT_CONFIGURED)
    answer.update(zip(names, states, strict=True))
    return answer
