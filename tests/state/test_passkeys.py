"""The sign-in page's passkey events (SPEC §16), driven through the real Reflex handlers with
the router data a websocket gives them: after the password, the second step offers the
passkey (and no code field when the account has no app); the browser's answer (here from
`soft-webauthn`'s software authenticator) finishes the sign-in; a second step that expired
goes back to the password. The browser half (`webauthn_script`) is checked for what it
sends: the service's options, and the handler that gets the answer."""

import asyncio
import json

import pytest
from reflex import constants
from reflex.state import State
from soft_webauthn import SoftWebauthnDevice
from sqlmodel import Session, select

from orgportal import db
from orgportal.config import settings
from orgportal.models import UserToken
from orgportal.models.base import utcnow
from orgportal.services import accounts
from orgportal.state import webauthn_script
from orgportal.state.auth import LoginState
from tests.factories import PASSWORD, make_user
from tests.services.test_passkeys import ORIGIN, public_key, register, to_json

NONCE = "nonce-of-this-tab"

pytestmark = pytest.mark.usefixtures("secret_key")


@pytest.fixture(autouse=True)
def app_db(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "public_url", ORIGIN)


def connected(cls):
    """A state as this tab's websocket sees it (its browser nonce cookie)."""
    root = State(_reflex_internal_init=True)
    headers = {"asgi-scope-client": "203.0.113.9", "cookie": f"{settings.browser_cookie}={NONCE}"}
    root._update_router_vars(
        {constants.RouteVar.CLIENT_IP: "203.0.113.9", constants.RouteVar.HEADERS: headers}, {}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def script_of(spec) -> str:
    return spec.args[0][1]._var_value


def options_in(spec) -> str:
    """The options the page hands to `navigator.credentials.get`."""
    code = script_of(spec)
    return code.rsplit("})(", 1)[1].rsplit(', "get")', 1)[0]


def test_the_script_carries_the_options_and_names_the_handler():
    spec = webauthn_script.create('{"user": {"name": "__MODE__"}}', LoginState.finish_passkey_step)
    code = script_of(spec)
    assert code.rstrip().endswith('({"user": {"name": "__MODE__"}}, "create")')
    assert "navigator.credentials.create" in code and "finish_passkey_step" in str(spec.args[1][1])


def test_password_then_passkey_signs_in(session: Session):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    login = connected(LoginState)
    asyncio.run(login.submit({"email": user.email, "password": PASSWORD}))
    assert login.step == "code" and login.step_passkey and not login.step_code
    assert login.error == ""

    spec = login.use_passkey()
    assert login.passkey_waiting
    answer = to_json(device.get(public_key(options_in(spec)), ORIGIN))
    done = login.finish_passkey_step(answer)
    assert login.error == "" and not login.passkey_waiting and login.step == "password"
    assert "/api/auth/session" in script_of(done)  # the ticket goes to the cookie route


def test_a_cancelled_dialog_says_so_and_the_step_stays(session: Session):
    user = make_user(session)
    register(session, user, SoftWebauthnDevice())
    login = connected(LoginState)
    asyncio.run(login.submit({"email": user.email, "password": PASSWORD}))
    login.use_passkey()
    assert login.finish_passkey_step(json.dumps({"error": "NotAllowedError"})) is None
    assert "cancelled" in login.error and login.step == "code"


def test_an_expired_second_step_goes_back_to_the_password(session: Session):
    user = make_user(session)
    register(session, user, SoftWebauthnDevice())
    login = connected(LoginState)
    asyncio.run(login.submit({"email": user.email, "password": PASSWORD}))
    for token in session.exec(
        select(UserToken).where(UserToken.purpose == accounts.TWO_FACTOR_STEP)
    ):
        token.expires_at = utcnow()
        session.add(token)
    session.commit()
    assert login.use_passkey() is None
    assert login.step == "password" and "expired" in login.error


def test_password_less_refusal_is_shown(session: Session):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    login = connected(LoginState)
    spec = login.sign_in_with_passkey()
    answer = to_json(device.get(public_key(options_in(spec)), ORIGIN))
    # soft-webauthn verifies no user: alone, its passkey does not sign in
    assert login.finish_passkey_sign_in(answer) is None
    assert login.error == "That passkey could not be verified. Please try again."
