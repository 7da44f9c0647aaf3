"""SPEC §1 brute force across emails, and "limits that stop attackers, not offices":
per client address (SPEC §11 for which address) only FAILED sign-ins count, an address over
its failure limit is refused before any password is hashed, and registration allows a team.

Driven through the real Reflex event handlers (LoginState.submit, submit_code,
RegisterState.submit) with the router data a websocket connection gives them, on real
argon2 at its lowest cost (hundreds of accounts are made here). Every test runs with the
limiters in memory (one backend worker) and in the Redis at 127.0.0.1:6379 as two workers
build them: attempts alternate between the workers, so a count each kept alone would let
twice the limit through.
"""

import asyncio
import time
import uuid
from ipaddress import ip_network

import pyotp
import pytest
import redis
from reflex import constants
from reflex.state import State
from sqlmodel import select

from orgportal import db, security
from orgportal.adapters.rate_limit import MemoryLimiter, RedisLimiter
from orgportal.config import settings
from orgportal.models import User
from orgportal.services import client_limits, secret_box, two_factor
from orgportal.state.auth import LoginState, RegisterState
from tests.factories import PASSWORD, make_user

REDIS_URL = "redis://127.0.0.1:6379/6"  # the database of tests/adapters/test_rate_limit.py
LIMITERS = ("sign_in_failures", "registrations")
WRONG = "incorrect.)"  # not the password of anyone here
REFUSED = "Too many attempts from your network."


class Workers:
    """The per-address limiters of the app's backend workers; `serve(n)` makes the app use
    worker n's (n modulo the number of workers)."""

    def __init__(self, monkeypatch, workers: list[dict]) -> None:
        self.monkeypatch, self.workers = monkeypatch, workers
        self.serve(0)

    def serve(self, n: int) -> None:
        for name, limiter in self.workers[n % len(self.workers)].items():
            self.monkeypatch.setattr(client_limits, name, limiter)


@pytest.fixture(params=["memory", "redis"])
def workers(request, monkeypatch):
    """Fresh limiters: one worker's in memory (without REDIS_URL there is one), or two
    workers' in Redis under names of this test only (deleted after)."""
    if request.param == "memory":
        fresh = {
            name: MemoryLimiter(old.name, old.limit, old.window)
            for name in LIMITERS
            for old in [getattr(client_limits, name)]
        }
        yield Workers(monkeypatch, [fresh])
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    test = uuid.uuid4().hex[:8]

    def worker() -> dict:
        return {
            name: RedisLimiter(f"test-{test}-{old.name}", old.limit, old.window, REDIS_URL)
            for name in LIMITERS
            for old in [getattr(client_limits, name)]
        }

    both = [worker(), worker()]
    yield Workers(monkeypatch, both)
    for limiter in both[0].values():
        limiter.reset()


@pytest.fixture
def hashes(engine, workers, monkeypatch) -> list[str]:
    """The app on the test database, fresh limits, cheap argon2, and a log of argon2 work
    (the real functions, wrapped to count their calls)."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(
        security, "argon2", security.argon2.using(rounds=1, memory_cost=64, parallelism=1)
    )
    calls: list[str] = []
    for name in ("hash_password", "verify_password", "burn_password_check"):
        real = getattr(security, name)
        monkeypatch.setattr(security, name, _logged(real, name, calls))
    return calls


def _logged(fn, name, calls):
    def wrapper(*args, **kwargs):
        calls.append(name)
        return fn(*args, **kwargs)

    return wrapper


def connected(cls, peer: str, forwarded_for: str | None = None):
    """A state as a websocket from `peer` (with this X-Forwarded-For) would see it."""
    root = State(_reflex_internal_init=True)
    headers = {"asgi-scope-client": peer, "cookie": f"{settings.browser_cookie}=nonce"}
    if forwarded_for:
        headers["x-forwarded-for"] = forwarded_for
    root._update_router_vars(
        {constants.RouteVar.CLIENT_IP: peer, constants.RouteVar.HEADERS: headers}, {}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def sign_in(peer: str, email: str, password: str = WRONG, forwarded=None) -> str:
    state = connected(LoginState, peer, forwarded)
    asyncio.run(state.submit({"email": email, "password": password}))
    return state.error


def make_users(session, count: int) -> list[User]:
    return [make_user(session, f"user-{n}@office.example") for n in range(count)]


# --- sign-in ------------------------------------------------------------------------------


def test_an_office_of_200_signs_in_from_one_address_at_once(session, hashes, workers):
    """Successes never count: 200 colleagues behind one NAT sign in within the same minute,
    a tenth of them after a typo, with the default limits. The typos are all that counted:
    the address may still fail exactly the rest of its limit."""
    assert settings.signin_failure_limit == 100
    users = make_users(session, 200)
    started = time.monotonic()
    for n, user in enumerate(users):
        workers.serve(n)
        if n % 10 == 0:
            assert sign_in("203.0.113.7", user.email).endswith("incorrect.")
        assert sign_in("203.0.113.7", user.email, PASSWORD) == ""
    assert time.monotonic() - started < 60
    for n, user in enumerate(users[: 100 - 20]):  # the other 80 of the 100 allowed failures
        workers.serve(n)
        assert sign_in("203.0.113.7", user.email).endswith("incorrect.")
    assert sign_in("203.0.113.7", users[0].email, PASSWORD).startswith(REFUSED)


def test_one_address_spraying_50_accounts_is_refused_before_any_hashing(session, hashes, workers):
    """Two wrong passwords for each of 50 accounts (under the per-email lockout of 5) make
    the default 100 failures; then the address is refused without a hash, whatever it
    tries, while other addresses are not."""
    users = make_users(session, 50)
    hashes.clear()
    for n in range(100):
        workers.serve(n)
        assert sign_in("203.0.113.7", users[n % 50].email) == "Email or password is incorrect."
    assert hashes == ["verify_password"] * 100  # each attempt was hashed once, and counted
    for n, email in enumerate([users[0].email, "nobody@example.com", users[1].email]):
        workers.serve(n)
        assert sign_in("203.0.113.7", email) == f"{REFUSED} Try again in 15 minutes."
    # Even the right password waits: the address is refused before looking at it.
    assert sign_in("203.0.113.7", users[2].email, PASSWORD).startswith(REFUSED)
    assert hashes == ["verify_password"] * 100  # no argon2 for a refused attempt
    assert sign_in("198.51.100.1", users[2].email, PASSWORD) == ""  # another network


def test_unknown_emails_count_as_failures_too(hashes, monkeypatch):
    monkeypatch.setattr(settings, "signin_failure_limit", 3)
    for n in range(3):
        assert sign_in("203.0.113.7", f"victim-{n}@example.com").endswith("incorrect.")
    assert hashes == ["burn_password_check"] * 3
    assert sign_in("203.0.113.7", "victim-9@example.com").startswith(REFUSED)
    assert hashes == ["burn_password_check"] * 3


def test_wrong_two_factor_codes_count_as_failures_of_the_address(session, hashes, monkeypatch):
    monkeypatch.setattr(settings, "signin_failure_limit", 3)
    monkeypatch.setattr(settings, "secret_key", "test secret key for two-factor")
    secret_box._master_key.cache_clear()
    now = time.time()
    monkeypatch.setattr(two_factor, "clock", lambda: now)
    user, other = make_user(session), make_user(session)
    setup = two_factor.start_setup(session, user=user)
    totp = pyotp.TOTP(setup.secret)
    two_factor.confirm_setup(session, user=user, code=totp.generate_otp(int(now // 30) - 1))
    session.commit()

    state = connected(LoginState, "203.0.113.7")
    asyncio.run(state.submit({"email": user.email, "password": PASSWORD}))
    assert (state.error, state.step) == ("", "code")
    for _ in range(3):
        asyncio.run(state.submit_code({"code": "000000"}))  # async: it may show a notice
        assert state.error == "That code is not valid. Check it and try again."
    asyncio.run(state.submit_code({"code": totp.generate_otp(int(now // 30))}))  # too late
    assert state.error.startswith(REFUSED)
    work = len(hashes)
    assert sign_in("203.0.113.7", other.email, PASSWORD).startswith(REFUSED)
    assert len(hashes) == work
    secret_box._master_key.cache_clear()


def test_the_default_limits_allow_an_office(session):
    """100 failures per 15 minutes and 200 registrations per hour, per address; each email
    is still locked after 5 failures in 15 minutes (`accounts`)."""
    assert (settings.signin_failure_limit, settings.signin_failure_window_seconds) == (100, 900)
    assert (settings.register_rate_limit, settings.register_rate_window_seconds) == (200, 3600)
    assert (settings.login_max_failures, settings.login_window_minutes) == (5, 15)


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(hashes, monkeypatch):
    monkeypatch.setattr(settings, "signin_failure_limit", 1)
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.0/8")])
    assert sign_in("10.0.0.2", "a@example.com", forwarded="198.51.100.1") == (
        "Email or password is incorrect."
    )
    assert sign_in("10.0.0.2", "a@example.com", forwarded="198.51.100.2") == (
        "Email or password is incorrect."
    )
    # A client choosing its own X-Forwarded-For gains nothing: the proxy appends the peer.
    assert sign_in("10.0.0.2", "a@example.com", forwarded="9.9.9.9, 198.51.100.1").startswith(
        REFUSED
    )
    # An untrusted peer's header is ignored: it is one client, however it labels itself.
    assert sign_in("203.0.113.7", "a@example.com", forwarded="198.51.100.3").endswith("incorrect.")
    assert sign_in("203.0.113.7", "a@example.com", forwarded="198.51.100.4").startswith(REFUSED)


# --- registration --------------------------------------------------------------------------


def register(peer: str, email: str):
    state = connected(RegisterState, peer)
    form = {"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"}
    return state, asyncio.run(state.submit(form))


def test_a_team_of_50_registers_from_one_address(session, hashes, workers):
    for n in range(50):
        workers.serve(n)
        state, toast = register("203.0.113.7", f"member-{n}@team.example")
        assert toast is None and state.sent_to == f"member-{n}@team.example"
    assert len(session.exec(select(User.email)).all()) == 50


def test_registrations_from_one_address_are_limited_before_any_hashing(
    session, hashes, workers, monkeypatch
):
    monkeypatch.setattr(settings, "register_rate_limit", 2)
    register("203.0.113.7", "one@example.com")
    workers.serve(1)
    register("203.0.113.7", "two@example.com")
    work = len(hashes)
    _, refused = register("203.0.113.7", "three@example.com")
    assert f"{REFUSED} Try again in 60 minutes." in str(refused)
    assert len(hashes) == work
    register("198.51.100.1", "four@example.com")
    emails = set(session.exec(select(User.email)))
    assert emails == {"one@example.com", "two@example.com", "four@example.com"}


def test_the_message_says_how_long_to_wait():
    assert client_limits.TooManyAttempts(59).message.endswith("Try again in 1 minute.")
    assert client_limits.TooManyAttempts(61).message.endswith("Try again in 2 minutes.")
    assert client_limits.TooManyAttempts(61).status == 429
    assert client_limits.TooManyAttempts(61).retry_after == 61


# --- the event loop during a password check ------------------------------------------------


def test_the_worker_keeps_serving_while_a_sign_in_hashes(session, hashes, workers, monkeypatch):
    """The password check runs off the event loop: while a sign-in waits on a (slowed)
    argon2 verification, other events and requests of the worker still run."""
    user = make_user(session, "busy@office.example")
    session.commit()
    slow_verify = security.verify_password
    started = []

    def verify(password: str, password_hash: str) -> bool:
        started.append(True)
        time.sleep(0.5)  # a real argon2id check under load: what must not block the loop
        return slow_verify(password, password_hash)

    monkeypatch.setattr(security, "verify_password", verify)
    state = connected(LoginState, "203.0.113.9")

    async def both() -> int:
        sign_in = asyncio.create_task(state.submit({"email": user.email, "password": PASSWORD}))
        ticks = 0
        while not sign_in.done():  # another coroutine of the same loop: it gets its turns
            await asyncio.sleep(0.01)
            ticks += started and 1 or 0
        await sign_in
        return ticks

    ticks = asyncio.run(both())
    assert started and ticks >= 10, f"the loop ran {ticks} times during the password check"
    assert state.error == ""
