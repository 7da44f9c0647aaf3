"""Event handlers run their use cases off the worker's event loop (state/event_threads.py):
a slow query or a slow Stripe call in one tab's event no longer stops every other tab,
redirect and API call the worker serves."""

import inspect
import threading
import time

import pytest

from orgportal import db
from orgportal.orgportal import app  # noqa: F401  (declares the pages, so every state)
from orgportal.services import invitations
from orgportal.state.event_threads import ThreadedEventHandler
from orgportal.state.members import MembersState
from tests.factories import make_org, make_user
from tests.state.test_forms import all_states
from tests.state.test_members import members_page
from tests.state.test_page_loads import run_while_ticking


@pytest.fixture(autouse=True)
def app_database(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def test_every_handler_of_ours_is_awaited_by_reflex_or_yields():
    """Reflex awaits a coroutine function and calls anything else on the loop: every
    handler written in orgportal must be one of the kinds that leave it."""
    plain = [
        f"{state.__name__}.{name}"
        for state in all_states()
        for name, handler in state.event_handlers.items()
        if handler.fn.__module__.startswith("orgportal.")
        and not handler._is_coroutine_function
        and not inspect.isgeneratorfunction(handler.fn)
        and not inspect.isasyncgenfunction(handler.fn)
    ]
    assert plain == []
    threaded = [
        handler
        for state in all_states()
        for handler in state.event_handlers.values()
        if isinstance(handler, ThreadedEventHandler)
    ]
    assert len(threaded) > 100  # (the Members page's alone are a dozen)


def test_a_slow_use_case_leaves_the_event_loop_free(session, monkeypatch):
    """While one tab's invite waits half a second on its use case, the loop keeps ticking;
    the handler still fills its state as before."""
    owner = make_user(session)
    org = make_org(session, owner)
    state = members_page(session, owner, org)
    real_invite = invitations.create_invite
    threads: list[str] = []

    def slow_invite(*args, **kwargs):
        threads.append(threading.current_thread().name)
        time.sleep(0.5)  # a slow database, a slow mail server
        return real_invite(*args, **kwargs)

    monkeypatch.setattr(invitations, "create_invite", slow_invite)

    handler = MembersState.event_handlers["send_invite"]
    assert handler._is_coroutine_function  # so Reflex's event processing awaits it
    form = {"email": "new@example.com", "role": "Viewer"}
    _, ticks = run_while_ticking(lambda: handler.fn(state, form))
    assert ticks >= 20  # it was 0: the loop stood still for the whole invite
    assert threads and threads[0].startswith("event")
    assert state.invite_errors == {}
    assert [i.email for i in state.invites] == ["new@example.com"]


def test_on_a_state_the_handler_is_still_the_plain_method(session):
    """Other code of a state, and tests, call a handler as a method: it runs right there."""
    owner = make_user(session)
    org = make_org(session, owner)
    state = members_page(session, owner, org)
    assert not inspect.iscoroutinefunction(state.send_invite)
    state.send_invite({"email": "plain@example.com", "role": "Viewer"})
    assert [i.email for i in state.invites] == ["plain@example.com"]
