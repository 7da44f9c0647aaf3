"""The rate limiters: in memory (one worker) and in Redis (SPEC §11: with REDIS_URL every rate
limit is counted in Redis, so several workers share one limit).

The Redis tests need the Redis at 127.0.0.1:6379 (CI has one). They use database 6 and only
keys of limiters named for the test, which they delete, so they never disturb other suites.
"""

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from orgportal.adapters import rate_limit
from orgportal.adapters.rate_limit import MemoryLimiter, RedisLimiter
from orgportal.config import settings

REDIS_URL = "redis://127.0.0.1:6379/6"
ROOT = Path(__file__).resolve().parents[2]


def test_sliding_window_forgets_old_hits():
    now = [0.0]
    window = MemoryLimiter("t", 2, 10, clock=lambda: now[0])
    assert window.hit("a") == 0 and window.hit("a") == 0
    assert window.hit("a") == pytest.approx(10)
    assert window.hit("b") == 0
    now[0] = 10.5
    assert window.hit("a") == 0


def test_sliding_window_memory_stays_bounded():
    now = [0.0]
    window = MemoryLimiter("t", 1, 10, clock=lambda: now[0])
    window.MAX_KEYS = 3
    for n in range(3):
        window.hit(f"old-{n}")
    now[0] = 20
    window.hit("new-1")
    assert set(window._hits) == {"new-1"}


def test_limit_and_window_may_be_settings_read_on_every_hit():
    now, limit = [0.0], [3]
    window = MemoryLimiter("t", lambda: limit[0], lambda: 10.0, clock=lambda: now[0])
    for second in range(3):
        now[0] = second
        assert window.hit("k") == 0
    limit[0] = 2  # lowered while hits at 0, 1, 2 count: room once those at 0 and 1 left
    assert window.hit("k") == pytest.approx(1 + 10 - 2)


def test_peek_answers_like_hit_and_records_nothing_in_memory():
    now = [0.0]
    window = MemoryLimiter("t", 2, 10, clock=lambda: now[0])
    assert [window.peek("a") for _ in range(5)] == [0] * 5
    assert window._hits == {}  # peeks alone keep no key
    assert window.hit("a") == 0 and window.peek("a") == 0 and window.hit("a") == 0
    assert window.peek("a") == pytest.approx(10) == window.hit("a")
    now[0] = 10.5
    assert window.peek("a") == 0


def test_without_redis_url_limiters_count_in_memory(monkeypatch):
    monkeypatch.setattr(settings, "redis_url", None)
    assert isinstance(rate_limit.limiter("x", 1, 1), MemoryLimiter)
    monkeypatch.setattr(settings, "redis_url", REDIS_URL)
    assert isinstance(rate_limit.limiter("x", 1, 1), RedisLimiter)


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture
def name():
    """A limiter name (Redis key prefix) of this test only; its keys are deleted after."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    RedisLimiter(name, 1, 1, REDIS_URL).reset()


def test_redis_limiter_allows_the_limit_then_says_how_long_to_wait(name):
    limiter = RedisLimiter(name, 3, 60, REDIS_URL)
    assert [limiter.hit("key") for _ in range(3)] == [0, 0, 0]
    wait = limiter.hit("key")
    assert 59 < wait <= 60
    assert limiter.hit("other") == 0
    ttl = redis.Redis.from_url(REDIS_URL).pttl(f"orgportal:rl:{name}:key")
    assert 59_000 < ttl <= 60_000  # a quiet key disappears after one window


def test_two_workers_limiters_share_one_limit(name):
    """Two instances with the same name, as each worker process builds its own."""
    first, second = RedisLimiter(name, 3, 60, REDIS_URL), RedisLimiter(name, 3, 60, REDIS_URL)
    assert [first.hit(7), second.hit(7), first.hit(7)] == [0, 0, 0]
    assert second.hit(7) > 0 and first.hit(7) > 0


def test_the_event_loop_hit_counts_in_the_same_window(name):
    """`ahit` (the REST fast path's) and `hit` share one count in Redis."""
    limiter = RedisLimiter(name, 3, 60, REDIS_URL)

    async def hits() -> list[float]:
        return [await limiter.ahit("key"), await limiter.ahit("key")]

    assert asyncio.run(hits()) == [0, 0]
    assert limiter.hit("key") == 0
    assert 59 < asyncio.run(limiter.ahit("key")) <= 60
    assert 59 < limiter.hit("key") <= 60


def test_far_from_the_limit_one_round_trip_reserves_a_lease_of_hits(name):
    limiter = RedisLimiter(name, 100_000, 60, REDIS_URL)
    limiter.LEASE_SECONDS = 10.0  # a stalled test machine must not expire leases: counts only
    counted = lambda: redis.Redis.from_url(REDIS_URL).zcard(f"orgportal:rl:{name}:key")  # noqa: E731
    refill_at = RedisLimiter.LEASE // RedisLimiter.REFILL_AT

    async def hits(n: int) -> list[float]:
        return [await limiter.ahit("key") for _ in range(n)]

    async def scenario() -> None:
        assert await hits(1) == [0]
        assert counted() == RedisLimiter.LEASE  # reserved, so counted for every worker
        spent_before_refill = RedisLimiter.LEASE - refill_at - 2
        assert await hits(spent_before_refill) == [0] * spent_before_refill
        await asyncio.sleep(0.01)
        assert counted() == RedisLimiter.LEASE  # spent here without asking Redis
        await hits(1)  # down to 1/REFILL_AT left: the next lease is asked for, in the background
        await asyncio.sleep(0.05)
        assert counted() == 2 * RedisLimiter.LEASE
        assert await hits(refill_at + RedisLimiter.LEASE) == [0] * (refill_at + RedisLimiter.LEASE)
        await asyncio.sleep(0.05)
        assert counted() == 3 * RedisLimiter.LEASE  # the third lease, asked for ahead again

    asyncio.run(scenario())


def _without_waiting(limiter: RedisLimiter, key: str) -> float:
    """`ahit` run to its end without ever suspending (no Redis round trip awaited), else
    AssertionError."""
    step = limiter.ahit(key)
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise AssertionError("the hit waited for Redis")


def test_a_steady_stream_of_hits_never_waits_for_redis(name):
    """After the first round trip, each lease is reserved before the one being spent runs
    out, so hits arriving one after another (the loop free between them, as between
    requests) are allowed at once, without a round trip of their own."""
    limiter = RedisLimiter(name, 100_000, 60, REDIS_URL)
    limiter.LEASE_SECONDS = 10.0  # a stalled test machine must not expire leases: refills only

    async def scenario() -> list[float]:
        assert await limiter.ahit("key") == 0  # the first lease: one round trip
        answers = []
        for _ in range(5 * RedisLimiter.LEASE):
            answers.append(_without_waiting(limiter, "key"))
            await asyncio.sleep(0.001)
        return answers

    assert asyncio.run(scenario()) == [0] * (5 * RedisLimiter.LEASE)


def test_an_expired_leases_unspent_hits_are_returned_by_the_next_round_trip(name):
    limiter = RedisLimiter(name, 100_000, 60, REDIS_URL)
    limiter.LEASE_SECONDS = 10.0  # expired below by the test itself, not by a stalled machine
    counted = lambda: redis.Redis.from_url(REDIS_URL).zcard(f"orgportal:rl:{name}:key")  # noqa: E731

    async def scenario() -> None:
        assert await limiter.ahit("key") == 0
        assert await limiter.ahit("key") == 0
        assert counted() == RedisLimiter.LEASE  # 2 spent, the rest reserved
        limiter._leases["key"].until = 0.0  # expired with LEASE - 2 unspent
        assert await limiter.ahit("key") == 0
        assert counted() == 2 + RedisLimiter.LEASE  # the 2 spent, and the new lease

    asyncio.run(scenario())


def test_a_round_trip_cut_off_by_a_closed_event_loop_holds_up_nothing(name):
    """A refill still under way when its event loop closed (tests run one loop after
    another) never completes: the next loop's hits do not wait for it."""
    limiter = RedisLimiter(name, 100_000, 60, REDIS_URL)

    async def cut_off() -> None:
        limiter._asking["key"] = asyncio.get_running_loop().create_future()

    asyncio.run(cut_off())
    assert asyncio.run(asyncio.wait_for(limiter.ahit("key"), 5)) == 0


def test_concurrent_hits_share_one_round_trip(name):
    """Requests arriving together wait for the lease one of them asks for (as many as
    spend it down to just above its refill mark, where the next would be asked for)."""
    limiter = RedisLimiter(name, 100_000, 60, REDIS_URL)
    limiter.LEASE_SECONDS = 10.0  # a stalled test machine must not expire leases: counts only
    counted = lambda: redis.Redis.from_url(REDIS_URL).zcard(f"orgportal:rl:{name}:key")  # noqa: E731
    n = RedisLimiter.LEASE - RedisLimiter.LEASE // RedisLimiter.REFILL_AT - 1

    async def scenario() -> list[float]:
        return await asyncio.gather(*(limiter.ahit("key") for _ in range(n)))

    assert asyncio.run(scenario()) == [0] * n
    assert counted() == RedisLimiter.LEASE  # one lease, not n


def test_concurrent_leasing_workers_allow_the_limit_and_refuse_with_the_right_wait(name):
    """Three limiters (three workers), 16 concurrent requests each per round, until every
    one is refused after its leases expired: exactly the limit passes (unspent hits are
    returned, refused ones never counted), and the wait is the window's remaining time."""
    limit = 300
    workers = [RedisLimiter(name, limit, 60, REDIS_URL) for _ in range(3)]

    async def scenario() -> tuple[int, list[float]]:
        allowed, waits = 0, []
        for _ in range(limit):  # far more rounds than needed
            answers = await asyncio.gather(
                *(worker.ahit("key") for worker in workers for _ in range(16))
            )
            allowed += answers.count(0)
            waits = [wait for wait in answers if wait]
            if len(waits) == len(answers):
                await asyncio.sleep(RedisLimiter.LEASE_SECONDS * 2)  # leases expire…
                final = await asyncio.gather(*(worker.ahit("key") for worker in workers))
                allowed += final.count(0)  # …their unspent hits come back: spent now
                if not any(wait == 0 for wait in final):
                    return allowed, waits + list(final)
        raise AssertionError("never refused")

    allowed, waits = asyncio.run(scenario())
    assert allowed == limit
    assert all(59 < wait <= 60 for wait in waits)


def test_leasing_workers_together_never_pass_the_limit(name):
    """Two limiters (two workers) alternate until both are refused: leases shrink near the
    limit, so together they allow the limit, never more (a few fewer only if a lease
    expired unspent on a stalled machine)."""
    first, second = RedisLimiter(name, 100, 60, REDIS_URL), RedisLimiter(name, 100, 60, REDIS_URL)

    async def scenario() -> int:
        allowed, refused = 0, 0
        while refused < 4:
            for limiter in (first, second):
                if await limiter.ahit("key"):
                    refused += 1
                else:
                    allowed += 1
        return allowed

    allowed = asyncio.run(scenario())
    assert 90 <= allowed <= 100


def test_processes_hitting_at_once_never_pass_the_limit_together(name):
    """Two processes race 30 hits each against a limit of 25: exactly 25 pass (atomic)."""
    code = (
        "from orgportal.adapters.rate_limit import RedisLimiter\n"
        f"limiter = RedisLimiter({name!r}, 25, 60, {REDIS_URL!r})\n"
        "print(sum(limiter.hit('shared') == 0 for _ in range(30)))\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    allowed = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    assert sum(allowed) == 25


def test_redis_peek_answers_like_hit_and_records_nothing(name):
    """The in-memory peek's behaviour, on the shared count (sign-in failures, SPEC §1)."""
    limiter = RedisLimiter(name, 2, 60, REDIS_URL)
    other_worker = RedisLimiter(name, 2, 60, REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    assert [limiter.peek("k") for _ in range(5)] == [0] * 5
    assert not client.exists(f"orgportal:rl:{name}:k")  # peeks alone keep no key
    assert limiter.hit("k") == 0 and other_worker.peek("k") == 0 and other_worker.hit("k") == 0
    assert client.zcard(f"orgportal:rl:{name}:k") == 2
    assert 59 < limiter.peek("k") <= 60 and 59 < other_worker.peek("k") <= 60
    assert 59 < limiter.hit("k") <= 60
    assert client.zcard(f"orgportal:rl:{name}:k") == 2


def test_redis_window_slides(name):
    limiter = RedisLimiter(name, 2, 0.4, REDIS_URL)
    assert limiter.hit("k") == 0
    time.sleep(0.2)
    assert limiter.hit("k") == 0
    assert limiter.hit("k") > 0
    time.sleep(0.25)  # the first hit has left the window, the second not yet
    assert limiter.hit("k") == 0
    assert limiter.hit("k") > 0


def test_redis_limit_may_change_at_run_time(name):
    limit = [5]
    limiter = RedisLimiter(name, lambda: limit[0], 60, REDIS_URL)
    assert [limiter.hit("k") for _ in range(3)] == [0, 0, 0]
    limit[0] = 2
    assert limiter.hit("k") > 0
    limit[0] = 4
    assert limiter.hit("k") == 0


def test_an_unreachable_redis_fails_open_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(RedisLimiter, "_last_warning", None)
    limiter = RedisLimiter("down", 1, 60, "redis://127.0.0.1:1/0")
    assert [limiter.hit("k"), limiter.hit("k"), limiter.peek("k")] == [0, 0, 0]
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # not once per request
