"""Every signed-in page loads with one event that authenticates the session once, and a
signed-out visitor is sent to sign in, whichever page they open (the state core)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from reflex import constants
from reflex.state import State

from orgportal import db, routes
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.services import accounts
from orgportal.state.auth import LoginState
from orgportal.state.base import PAGE_STATES, AppState
from tests.factories import make_org, make_user, open_session

T = TypeVar("T")

SIGNED_IN_PAGES = [
    routes.ORGANIZATION,
    routes.ORG_MEMBERS,
    routes.ORG_BILLING,
    routes.ORG_SUPPORT,
    routes.ORGANIZATION_DOMAINS,
    routes.ORG_WEBHOOKS,
    routes.ORG_SETTINGS,
    routes.AUDIT_LOG,
    routes.LINKS,
    routes.FILES,
    routes.TICKETS,
    routes.ACCOUNT,
    routes.PROJECTS,
    routes.APPROVALS,
    routes.ANALYTICS,
    # the Account page's sections
    routes.ACCOUNT_PROFILE,
    routes.ACCOUNT_SECURITY,
    routes.ACCOUNT_SESSIONS,
    routes.ACCOUNT_PLAN,
    routes.ACCOUNT_NOTIFICATIONS,
]


def connected(cookie: str, path: str) -> AppState:
    """The app's state tree as a websocket with this cookie, on this page, would see it."""
    root = State(_reflex_internal_init=True)
    headers = {"cookie": cookie, "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {
            constants.RouteVar.HEADERS: headers,
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: path,
        },
        {},
    )
    return root.get_substate(AppState.get_full_name().split(".")[1:])


@pytest.fixture
def counted(engine, monkeypatch) -> list[str]:
    monkeypatch.setattr(db, "engine", lambda: engine)
    calls: list[str] = []
    real = accounts.authenticate

    def authenticate(session, raw_token):
        calls.append(raw_token or "")
        return real(session, raw_token)

    monkeypatch.setattr(accounts, "authenticate", authenticate)
    return calls


def run_while_ticking(work: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """`work()` awaited on an event loop beside a ticker (every 10 ms): its result, and how
    often the ticker ran meanwhile (a loop that `work` blocks ticks once, after it)."""

    async def main() -> tuple[T, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        running = asyncio.create_task(ticker())
        try:
            result = await work()
        finally:
            running.cancel()
        return result, ticks

    return asyncio.run(main())


def test_every_signed_in_page_is_declared():
    assert set(SIGNED_IN_PAGES) <= set(PAGE_STATES)


@pytest.mark.parametrize("route", SIGNED_IN_PAGES)
def test_a_page_load_authenticates_once(session, counted, route):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    state = connected(f"{routes.SESSION_COOKIE}={raw}", route)
    events = asyncio.run(AppState.load_page.fn(state, route))
    assert counted == [raw]
    assert state.page_ready and state.active_org_id == org.id
    assert events is None
    # loaded, in the delta that carries the page's data (not one more event and delta later)
    assert state.parent_state.is_hydrated and "is_hydrated" in state.parent_state.dirty_vars


@pytest.mark.parametrize("route", SIGNED_IN_PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in(session, counted, route):
    state = connected("", route)
    events = asyncio.run(AppState.load_page.fn(state, route))
    assert "login" in str(events) and "next" in str(events)
    assert counted == []  # no session cookie: sent on before any state or row is read


def test_the_sign_in_page_is_loaded_by_its_one_load_event():
    state = connected("", routes.LOGIN).get_substate(LoginState.get_full_name().split(".")[2:])
    state.step = "code"
    asyncio.run(LoginState.load.fn(state))
    assert state.step == "password" and state.parent_state.parent_state.is_hydrated


def test_a_page_filled_ahead_is_not_said_loaded_before_its_own_load_event(session, counted):
    """`fill_ahead` runs while the previous page is still shown: only the page's own load
    event says it is loaded."""
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORGANIZATION)
    asyncio.run(AppState.fill_ahead.fn(state, routes.LINKS))
    assert not state.parent_state.is_hydrated


def test_a_page_loads_queries_leave_the_event_loop_free(session, counted, monkeypatch):
    """The page's transaction runs in a worker thread: while it waits on the database the
    worker's event loop goes on serving everything else (here: a ticker), where it used to
    stand still for the whole load."""
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    state = connected(f"{routes.SESSION_COOKIE}={raw}", routes.LINKS)
    slow_class = PAGE_STATES[routes.LINKS][0]
    real_load = slow_class._load

    def slow_load(self, session, viewer):
        time.sleep(0.5)  # a slow query
        return real_load(self, session, viewer)

    monkeypatch.setattr(slow_class, "_load", slow_load)

    events, ticks = run_while_ticking(lambda: AppState.load_page.fn(state, routes.LINKS))
    assert events is None and state.page_ready
    assert ticks >= 10, ticks  # ~50 in 0.5 s; a blocked loop ticks once, after the load
