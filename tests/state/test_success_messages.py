"""A success message follows only a committed change: every event handler that
can say "saved", "sent", "created"… is called as a crafted websocket event would call it —
signed out, and signed in to an organization whose Security settings refuse the caller —
and must answer with a refusal (sign-in page, security gate, error), never a success toast.
Before the fix, the organization's Security card said "Security settings saved." after the
state core had refused the save and redirected to the gate."""

import asyncio
import contextlib
import inspect
import re
import typing
from typing import Any

import pytest
from sqlmodel import Session

from orgportal import db, routes
from orgportal.models import Role
from orgportal.orgportal import app  # noqa: F401  (declares every page and state)
from orgportal.state.base import AppState
from tests.factories import add_member, make_org, make_user, open_session
from tests.services.test_org_security import connected, on_plan, save

pytestmark = pytest.mark.usefixtures("secret_key")  # tests/conftest.py

SUCCESS = '["success"]'  # how rx.toast.success reads inside the returned events
# Success messages about the browser itself, not about a change on the server.
NOT_A_CHANGE = {("AccountState", "copy_new_key"), ("OrganizationKeysState", "copy_secret")}


def _states(root: type[AppState]) -> list[type[AppState]]:
    found = []
    for sub in root.__subclasses__():
        found += [sub, *_states(sub)]
    return found


def _source_with_helpers(state: type[AppState], fn) -> str:
    """The handler's code and that of the state's own `self._…` helpers it calls."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return ""
    for helper in re.findall(r"self\.(_[a-z]\w*)\(", source):
        method = getattr(state, helper, None)
        if callable(method) and helper not in ("_run", "_act", "_act_form", "_refresh"):
            with contextlib.suppress(OSError, TypeError):
                source += inspect.getsource(method)
    return source


def handlers_that_announce_success() -> list[tuple[type[AppState], str]]:
    """(state, handler) pairs whose code shows a success toast, directly or through the
    state core's `done=`."""
    pairs = []
    for state in _states(AppState):
        for name, handler in state.event_handlers.items():
            source = _source_with_helpers(state, handler.fn)
            announces = "toast.success" in source or "done=" in source
            if announces and (state.__name__, name) not in NOT_A_CHANGE:
                pairs.append((state, name))
    return sorted(pairs, key=lambda pair: (pair[0].__name__, pair[1]))


def _argument(parameter: inspect.Parameter) -> Any:
    """Something of the declared type, as a crafted event would send."""
    kind = parameter.annotation
    if parameter.default is not inspect.Parameter.empty:
        return parameter.default
    if typing.get_origin(kind) is list:
        return []
    return {dict: {"name": "x", "email": "x@example.com"}, int: 1, bool: True}.get(kind, "1")


async def _call(state: AppState, name: str) -> str:
    handler = type(state).event_handlers[name].fn
    parameters = list(inspect.signature(handler).parameters.values())[1:]
    result = handler(state, *[_argument(p) for p in parameters])
    if inspect.isasyncgen(result):
        return str([event async for event in result])
    if inspect.isgenerator(result):
        return str(list(result))
    if inspect.iscoroutine(result):
        result = await result
    return str(result)


def _state_of(root: AppState, state_class: type[AppState]) -> AppState:
    return root.parent_state.get_substate(state_class.get_full_name().split(".")[1:])


@pytest.fixture
def app_db(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def test_there_are_handlers_to_check():
    names = {f"{state.__name__}.{name}" for state, name in handlers_that_announce_success()}
    assert {
        "OrgSecurityState.save",
        "MembersState.send_invite",
        "TicketsState.create_ticket",
    } <= names


@pytest.mark.parametrize(
    ("state_class", "name"),
    handlers_that_announce_success(),
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_no_success_message_without_a_committed_change(
    session: Session, app_db, state_class: type[AppState], name: str
):
    owner = make_user(session)
    org = make_org(session, owner)
    on_plan(session, org)
    admin = add_member(session, org, Role.ADMIN)  # no two-factor sign-in, which is required
    save(session, owner, org, require=True)
    refused, _ = open_session(session, admin, org.id)
    session.commit()

    signed_out = _state_of(
        connected(f"{routes.SESSION_COOKIE}=expired", routes.ACCOUNT), state_class
    )
    assert SUCCESS not in asyncio.run(_call(signed_out, name))
    if state_class.refused_by_organization:
        in_org = _state_of(
            connected(f"{routes.SESSION_COOKIE}={refused}", routes.ORG_SETTINGS), state_class
        )
        answer = asyncio.run(_call(in_org, name))
        # refused at the gate, or (an upload carrying no file) nothing done and nothing said
        assert SUCCESS not in answer
        assert routes.TWO_FACTOR_REQUIRED in answer or answer == "None"
