"""SPEC §1 brute force across emails: sign-in and registration are limited per client address
(SPEC §11 for which address), and a refused attempt hashes no password.

Driven through the real Reflex event handlers (LoginState.submit, RegisterState.submit) with
the router data a websocket connection gives them.
"""

from ipaddress import ip_network

import pytest
from reflex import constants
from reflex.state import State
from sqlmodel import select

from orgportal import db, security
from orgportal.adapters.rate_limit import MemoryLimiter
from orgportal.config import settings
from orgportal.models import User
from orgportal.services import client_limits
from orgportal.state.auth import LoginState, RegisterState
from tests.unit.factories import PASSWORD, make_user


@pytest.fixture
def hashes(engine, monkeypatch) -> list[str]:
    """The app on the test database, fresh in-memory limits, and a log of argon2 work."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    for name in ("sign_ins", "registrations"):
        old = getattr(client_limits, name)
        monkeypatch.setattr(client_limits, name, MemoryLimiter(old.name, old.limit, old.window))
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


def sign_in(peer: str, email: str, password: str = "wrong password!", forwarded=None) -> str:
    state = connected(LoginState, peer, forwarded)
    state.submit({"email": email, "password": password})
    return state.error


def test_one_address_spraying_many_emails_is_stopped_before_any_hashing(
    session, hashes, monkeypatch
):
    monkeypatch.setattr(settings, "signin_rate_limit", 3)
    for n in range(3):
        assert sign_in("203.0.113.7", f"victim-{n}@example.com") == (
            "Email or password is incorrect."
        )
    work = len(hashes)
    refused = sign_in("203.0.113.7", "victim-9@example.com")
    assert refused == "Too many attempts from your network. Try again in 5 minutes."
    assert len(hashes) == work  # no argon2 for a refused attempt
    user = make_user(session)  # even the right password waits: the address is refused
    assert sign_in("203.0.113.7", user.email, PASSWORD).startswith("Too many attempts")
    assert sign_in("198.51.100.1", user.email, PASSWORD) == ""  # another network: signed in


def test_the_default_sign_in_limit_is_twenty_per_five_minutes():
    assert (settings.signin_rate_limit, settings.signin_rate_window_seconds) == (20, 300)
    assert (settings.register_rate_limit, settings.register_rate_window_seconds) == (10, 3600)


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(hashes, monkeypatch):
    monkeypatch.setattr(settings, "signin_rate_limit", 1)
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.0/8")])
    assert sign_in("10.0.0.2", "a@example.com", forwarded="198.51.100.1") == (
        "Email or password is incorrect."
    )
    assert sign_in("10.0.0.2", "a@example.com", forwarded="198.51.100.2") == (
        "Email or password is incorrect."
    )
    # A client choosing its own X-Forwarded-For gains nothing: the proxy appends the peer.
    assert sign_in("10.0.0.2", "a@example.com", forwarded="9.9.9.9, 198.51.100.1").startswith(
        "Too many attempts"
    )
    # An untrusted peer's header is ignored: it is one client, however it labels itself.
    assert sign_in("203.0.113.7", "a@example.com", forwarded="198.51.100.3").endswith("incorrect.")
    assert sign_in("203.0.113.7", "a@example.com", forwarded="198.51.100.4").startswith(
        "Too many attempts"
    )


def test_registrations_from_one_address_are_limited_before_any_hashing(
    session, hashes, monkeypatch
):
    monkeypatch.setattr(settings, "register_rate_limit", 2)

    def register(peer: str, email: str):
        state = connected(RegisterState, peer)
        form = {"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"}
        return state.submit(form)

    register("203.0.113.7", "one@example.com")
    register("203.0.113.7", "two@example.com")
    work = len(hashes)
    refused = register("203.0.113.7", "three@example.com")
    assert "Too many attempts from your network. Try again in 60 minutes." in str(refused)
    assert len(hashes) == work
    register("198.51.100.1", "four@example.com")
    emails = set(session.exec(select(User.email)))
    assert emails == {"one@example.com", "two@example.com", "four@example.com"}


def test_the_message_says_how_long_to_wait():
    assert client_limits.TooManyAttempts(59).message.endswith("Try again in 1 minute.")
    assert client_limits.TooManyAttempts(61).message.endswith("Try again in 2 minutes.")
    assert client_limits.TooManyAttempts(61).status == 429
