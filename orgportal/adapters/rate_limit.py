"""Rate limiters: `hit(key)` records one hit and returns 0, or the seconds to wait.

`peek(key)` answers the same question without recording anything: for limits that count
only some outcomes (sign-in failures per address, `services/client_limits.py`), the caller
peeks before the costly work and hits only when the outcome is one that counts.

Every limit of the app (REST per API key, public intake per address and per organization,
failed sign-ins and registrations per address) is one of these, made by `limiter()`:

- without REDIS_URL, a `MemoryLimiter`: a sliding window in this process. There is then one
  backend worker, so its count is the whole count;
- with REDIS_URL, a `RedisLimiter`: the same sliding window kept in Redis (one sorted set per
  key, `orgportal:rl:<name>:<key>`, updated atomically by one Lua script on Redis's clock),
  so N workers share one limit instead of allowing N times it (SPEC §11).

If Redis cannot be reached, the Redis limiter **fails open**: it allows the hit and logs a
warning (at most once a minute). Limits protect capacity; refusing every sign-in and API
call while Redis is down would turn a Redis outage into a full outage, and accounts stay
guarded by the per-email lockout, which lives in the database.

`ahit(key)` is the same for code on the event loop (the REST hot reads, SCIM); in Redis
it reserves hits a few at a time far from the limit, the next few in the background
before these run out (see `RedisLimiter.ahit`).

`limit` and `window` are numbers or zero-argument callables read on every hit, so values
from settings (and tests that lower them) take effect at once; both may be reassigned.
"""

import asyncio
import logging
import os
import secrets
import threading
import time
import weakref
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

from orgportal.adapters import metrics
from orgportal.config import settings

log = logging.getLogger(__name__)
Key = str | int
Limit = int | Callable[[], int]
Window = float | Callable[[], float]


class RateLimiter(Protocol):
    name: str
    limit: Limit
    window: Window

    def hit(self, key: Key) -> float:
        """Record a hit for `key` and return 0, or, when over the limit, the seconds to wait
        (a refused hit is not recorded)."""
        ...

    async def ahit(self, key: Key) -> float:
        """`hit` for the event loop: never blocks it on Redis (REST fast paths)."""
        ...

    def peek(self, key: Key) -> float:
        """What `hit` would answer now (0, or the seconds to wait), recording nothing."""
        ...

    def reset(self) -> None:
        """Forget every hit (tests)."""
        ...


class _Limiter:
    def __init__(self, name: str, limit: Limit, window: Window) -> None:
        self.name, self.limit, self.window = name, limit, window

    def current(self) -> tuple[int, float]:
        """This moment's (limit, window in seconds); a limit below 1 counts as 1."""
        limit = self.limit() if callable(self.limit) else self.limit
        window = self.window() if callable(self.window) else self.window
        return max(1, int(limit)), float(window)

    def _refused(self, wait: float) -> float:
        """`wait`, counted in the metrics as a refusal by this limiter (SPEC §18)."""
        return metrics.rate_limit_refused(self.name, wait)


class MemoryLimiter(_Limiter):
    """At most `limit` hits per key in any `window` seconds, counted in this process."""

    MAX_KEYS = 10_000

    def __init__(
        self, name: str, limit: Limit, window: Window, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(name, limit, window)
        self.clock = clock
        self._hits: dict[Key, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: Key) -> float:
        limit, window = self.current()
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:  # wait until enough hits leave to make room for one
                return self._refused(max(hits[len(hits) - limit] + window - now, 0.001))
            hits.append(now)
            if len(self._hits) > self.MAX_KEYS:
                self._forget(now, window)
            return 0

    async def ahit(self, key: Key) -> float:
        return self.hit(key)  # a lock and a deque: cheaper than leaving the loop

    def peek(self, key: Key) -> float:
        limit, window = self.current()
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)  # no entry made: peeks alone never grow the dict
            while hits and hits[0] <= now - window:
                hits.popleft()
            if hits and len(hits) >= limit:
                return self._refused(max(hits[len(hits) - limit] + window - now, 0.001))
            return 0

    def _forget(self, now: float, window: float) -> None:
        """Drop keys with no hit inside the window, so memory stays bounded."""
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


# The sliding window. KEYS[1]: the key's sorted set of hit times (ms, Redis's clock). ARGV:
# window in ms, limit, a unique member, and the most hits to reserve at once (1 for a plain
# hit; more for a worker's *lease*, spent locally): as many as fit, but never more than 1/16
# of the room left, so near the limit every hit is asked for one by one; 0 for a *peek*,
# which reserves nothing. Optionally, from ARGV[5], triples: the member prefix of one of this
# worker's earlier leases and the range of its numbers left unspent, removed first
# (*returned*: never used). Returns {hits reserved, ms to wait when over the limit, else 0}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
for j = 5, #ARGV - 2, 3 do
  local unspent = {}
  for i = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]) do
    unspent[#unspent + 1] = ARGV[j] .. ':' .. i
  end
  if #unspent > 0 then
    redis.call('ZREM', KEYS[1], unpack(unspent))
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local edge = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return {0, math.max(tonumber(edge[2]) + window - now, 1)}
end
if tonumber(ARGV[4]) == 0 then
  return {0, 0}
end
local n = math.max(1, math.min(tonumber(ARGV[4]), math.floor((limit - count) / 16)))
local members = {}
for i = 1, n do
  members[#members + 1] = now
  members[#members + 1] = ARGV[3] .. ':' .. i
end
redis.call('ZADD', KEYS[1], unpack(members))
redis.call('PEXPIRE', KEYS[1], window)
return {n, 0}
"""


@dataclass
class _Lease:
    """Hits reserved in Redis by one round trip (members `member:1` … `member:granted`),
    `left` of them not spent yet (the last ones), spendable until `until` (monotonic)."""

    member: str
    granted: int
    left: int
    until: float

    def unspent(self) -> list[Any]:
        """The script's triple returning the hits not spent."""
        return [self.member, self.granted - self.left + 1, self.granted]


class RedisLimiter(_Limiter):
    """The sliding window in Redis, shared by every worker and process using `url`."""

    WARN_EVERY = 60.0
    LEASE = 256  # most hits one `ahit` round trip reserves (far from the limit)
    LEASE_SECONDS = 0.1  # how long after its round trip was sent this worker may spend them
    REFILL_AT = 2  # the next lease is asked for when 1/REFILL_AT of this one is left
    _last_warning: float | None = None  # shared by all Redis limiters of the process

    def __init__(self, name: str, limit: Limit, window: Window, url: str) -> None:
        super().__init__(name, limit, window)
        self.url = url
        self.prefix = f"orgportal:rl:{name}:"
        self._leases: dict[Key, _Lease] = {}  # being spent
        self._ahead: dict[Key, _Lease] = {}  # reserved in the background, spent next
        self._unspent: dict[Key, list[_Lease]] = {}  # expired with hits left: to return
        self._asking: dict[Key, asyncio.Future[None]] = {}  # keys with a round trip under way
        self._refills: set[asyncio.Task[None]] = set()

    def hit(self, key: Key) -> float:
        limit, window = self.current()
        try:
            granted, wait_ms = _script(self.url, os.getpid())(
                keys=[f"{self.prefix}{key}"],
                args=[max(1, int(window * 1000)), limit, secrets.token_hex(8), 1],
            )
        except redis.RedisError:
            self._warn()
            return 0
        return 0 if granted else self._refused(int(wait_ms) / 1000)

    def peek(self, key: Key) -> float:
        """The same script reserving 0 hits: one round trip, on Redis's clock. Fails open,
        like `hit`."""
        limit, window = self.current()
        try:
            _, wait_ms = _script(self.url, os.getpid())(
                keys=[f"{self.prefix}{key}"],
                args=[max(1, int(window * 1000)), limit, "", 0],
            )
        except redis.RedisError:
            self._warn()
            return 0
        return self._refused(int(wait_ms) / 1000)

    async def ahit(self, key: Key) -> float:
        """`hit` for a polled route, over the event loop's own Redis connections, and cheap:
        far from the limit one round trip reserves several hits (a lease of up to LEASE
        hits, at most 1/16 of the room left), which this worker then spends without asking
        again for LEASE_SECONDS. Every hit is still counted in Redis, before it is allowed,
        so the workers together never pass the limit; near it, leases shrink to one hit.

        A request never waits for Redis while hits keep coming: when a lease of several
        hits is down to 1/REFILL_AT, the next one is reserved in the background and taken
        over when this one runs out. Only the first hit, a lease that expired, or one spent
        faster than its refill came back waits for a round trip; near the limit (leases of
        one hit) every hit does, as before.

        One round trip per key at a time in this worker: requests arriving while a lease is
        being asked for wait for it and share it (without that, N concurrent requests would
        each reserve a lease, N times what is needed). Hits of an expired lease left unspent
        are *returned* (removed from Redis) by the next round trip for the key, so they do not
        refuse the key early. What remains: until that next round trip, unspent hits count
        (at most two leases per worker and key; one hit near the limit), and a spent hit
        counts from its reservation, at most LEASE_SECONDS early."""
        while True:
            lease = self._leases.get(key)
            if lease is not None and lease.left > 0 and time.monotonic() < lease.until:
                lease.left -= 1
                if (
                    lease.granted > 1
                    and lease.left <= lease.granted // self.REFILL_AT
                    and key not in self._ahead
                    and key not in self._asking
                ):
                    self._refill(key)
                return 0
            ahead = self._ahead.pop(key, None)
            if ahead is not None:  # reserved before this one ran out: take it over
                self._retire(key)
                self._leases[key] = ahead
                continue
            pending = self._asking.get(key)
            if pending is not None and pending.get_loop() is not asyncio.get_running_loop():
                del self._asking[key]  # left by a closed event loop (tests run several)
                pending = None
            if pending is None:
                break
            await asyncio.shield(pending)  # share the lease being asked for; then try again
        self._retire(key)
        return await self._reserve(key, self._asking_for(key), ahead=False)

    def _asking_for(self, key: Key) -> "asyncio.Future[None]":
        future = asyncio.get_running_loop().create_future()
        self._asking[key] = future
        return future

    def _refill(self, key: Key) -> None:
        """Reserve the next lease in the background (the current one is running out)."""
        task = asyncio.get_running_loop().create_task(
            self._reserve(key, self._asking_for(key), ahead=True)
        )
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)

    def _retire(self, key: Key) -> None:
        """The lease being spent is done (spent or expired): its unspent hits go back with
        the next round trip."""
        lease = self._leases.pop(key, None)
        if lease is not None and lease.left > 0:
            self._unspent.setdefault(key, []).append(lease)

    async def _reserve(self, key: Key, asking: "asyncio.Future[None]", *, ahead: bool) -> Any:
        """One round trip: return the unspent hits of expired leases and reserve a new
        lease, then either take one hit of it now (0, or the seconds to wait when refused)
        or, `ahead`, keep it whole for when the current one runs out (refused: nothing)."""
        try:
            limit, window = self.current()
            member = secrets.token_hex(8)
            returned = [arg for lease in self._unspent.pop(key, ()) for arg in lease.unspent()]
            sent = time.monotonic()
            try:
                granted, wait_ms = await _async_script(
                    self.url, os.getpid(), asyncio.get_running_loop(), _RESERVE
                )(
                    keys=[f"{self.prefix}{key}"],
                    args=[max(1, int(window * 1000)), limit, member, self.LEASE, *returned],
                )
            except redis.RedisError:
                self._warn()
                return None if ahead else 0
            self._forget(sent)
            granted = int(granted)
            if ahead:
                if granted:
                    self._ahead[key] = _Lease(member, granted, granted, sent + self.LEASE_SECONDS)
                return None
            if not granted:
                return self._refused(int(wait_ms) / 1000)
            self._leases[key] = _Lease(member, granted, granted - 1, sent + self.LEASE_SECONDS)
            return 0
        finally:
            if self._asking.get(key) is asking:
                del self._asking[key]
            asking.set_result(None)

    def _forget(self, now: float) -> None:
        """Past MAX_KEYS keys, expired leases are dropped unreturned (memory stays bounded;
        their hits count until the window passes them)."""
        if len(self._leases) + len(self._ahead) + len(self._unspent) > MemoryLimiter.MAX_KEYS:
            self._leases = {k: v for k, v in self._leases.items() if v.until > now}
            self._ahead = {k: v for k, v in self._ahead.items() if v.until > now}
            self._unspent = {}

    def _warn(self) -> None:
        now, last = time.monotonic(), RedisLimiter._last_warning
        if last is None or now - last >= self.WARN_EVERY:
            RedisLimiter._last_warning = now
            log.warning("rate limit %r not applied: Redis unreachable", self.name, exc_info=True)

    def reset(self) -> None:
        self._leases.clear()
        self._ahead.clear()
        self._unspent.clear()
        client = _client(self.url, os.getpid())
        for key in client.scan_iter(match=f"{self.prefix}*"):
            client.delete(key)


@cache
def _client(url: str, pid: int) -> redis.Redis:
    """One client (one connection pool) per process (`pid` keeps a forked worker from using
    its parent's); short timeouts, so that a Redis outage delays a request by a second, not a
    minute. The name tells the process apart in Redis's CLIENT LIST."""
    return redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=1, client_name=f"orgportal-rate-limit-{pid}"
    )


@cache
def _script(url: str, pid: int) -> Callable[..., int]:
    """The Lua script bound to the process's client (EVALSHA, loaded again if Redis forgot)."""
    return _client(url, pid).register_script(_RESERVE)


_async_scripts: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = (
    weakref.WeakKeyDictionary()
)


def _async_script(
    url: str, pid: int, loop: asyncio.AbstractEventLoop, source: str
) -> Callable[..., Awaitable[Any]]:
    """`source` on an asyncio client of this process and event loop (a client's
    connections belong to the loop that opened them; tests run several loops)."""
    scripts = _async_scripts.setdefault(loop, {})
    script = scripts.get((url, pid, source))
    if script is None:
        client = scripts.get((url, pid))
        if client is None:
            client = scripts[(url, pid)] = aioredis.Redis.from_url(
                url,
                socket_timeout=1,
                socket_connect_timeout=1,
                client_name=f"orgportal-rate-limit-{pid}",
            )
        script = scripts[(url, pid, source)] = client.register_script(source)
    return script


def limiter(name: str, limit: Limit, window: Window) -> RateLimiter:
    """A limiter named `name` (its Redis key prefix), counted in Redis when REDIS_URL is set."""
    if settings.redis_url:
        return RedisLimiter(name, limit, window, settings.redis_url)
    return MemoryLimiter(name, limit, window)
