"""Register, sign in and email confirmation pages.

Sign-in and registration hash a password (argon2id, deliberately slow: 64 MiB, 3 passes), so
their work runs in a worker thread (`asyncio.to_thread`): a burst of sign-ins must not hold
up every other page and request on the worker's event loop (SPEC §18)."""

import asyncio
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.models import User
from orgportal.services import accounts, client_limits, passkeys, two_factor
from orgportal.services.errors import InvalidToken, NotAuthenticated
from orgportal.services.validation import FieldError, normalize_email
from orgportal.state import webauthn_script
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.outcome import Form
from orgportal.state.session_cookie import open_session
from orgportal.state.two_factor import RecoveryCodesNotice

MAX_EMAIL = 254


class LoginState(AppState):
    error: str = ""
    pending: bool = False
    # "code" after a right password when the account has two-factor sign-in (SPEC §13); the
    # challenge stays on the server (a backend var), never in the browser.
    step: str = "password"
    _challenge: str = ""
    # which second steps the account has: a code (authenticator app) and/or a passkey
    step_code: bool = True
    step_passkey: bool = False
    passkey_waiting: bool = False  # the browser's passkey dialog is open

    @rx.var
    def next_path(self) -> str:
        return accounts.safe_next(self.router.url.query_parameters.get("next"))

    @rx.var
    def prefill_email(self) -> str:
        """The Email field's first value: the invite page's Sign in names the invited address
        (`email=`). Only a convenience: shown if it is a valid address, never trusted."""
        raw = self.router.url.query_parameters.get("email", "")
        if not raw or len(raw) > MAX_EMAIL:
            return ""
        try:
            return normalize_email(raw)
        except FieldError:
            return ""

    @rx.var
    def retry_notice(self) -> str:
        """Shown after a sign-in link failed in this browser (see `/api/auth/session`)."""
        retry = self.router.url.query_parameters.get("retry")
        return accounts.SIGN_IN_LINK_FAILED if retry else ""

    @rx.var
    def register_href(self) -> str:
        nxt = self.router.url.query_parameters.get("next")
        return routes.register(nxt)

    @rx.event
    async def submit(self, form: dict):
        self.error = ""
        address, browser = self._client_address(), self._browser_nonce()

        def sign_in(session: Session) -> "str | accounts.SecondStep":
            return accounts.sign_in(
                session,
                email=form.get("email", ""),
                password=form.get("password", ""),
                browser=browser,
            )

        # Refused before any hashing when the address failed too often; counts a failure.
        # The hashing runs in a worker thread, so the event loop serves the other tabs.
        outcome = await asyncio.to_thread(
            run_signed_out, sign_in, around=client_limits.sign_in_attempt(address)
        )
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        if isinstance(outcome.value, accounts.SecondStep):
            self.step, self._challenge = "code", outcome.value.challenge
            self.step_code, self.step_passkey = outcome.value.code, outcome.value.passkey
            return None
        return open_session(outcome.value, self.next_path)

    # --- passkeys (SPEC §16): password-less, or the second step -------------------------------

    @rx.event
    def sign_in_with_passkey(self):
        """Password-less: the browser offers the passkeys it holds for this site."""
        self.error = ""
        browser = self._browser_nonce()
        outcome = run_signed_out(lambda session: passkeys.begin_sign_in(session, browser=browser))
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        self.passkey_waiting = True
        return webauthn_script.get(outcome.value, LoginState.finish_passkey_sign_in)

    @rx.event
    def finish_passkey_sign_in(self, answer: str):
        self.passkey_waiting, self.error = False, ""
        browser = self._browser_nonce()
        # A refused passkey is a failure of the address, like a wrong password.
        outcome = run_signed_out(
            lambda session: passkeys.finish_sign_in(
                session, answer=answer if isinstance(answer, str) else "", browser=browser
            ),
            around=client_limits.sign_in_attempt(self._client_address()),
        )
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        return open_session(outcome.value, self.next_path)

    @rx.event
    def use_passkey(self):
        """The second step with one of the account's passkeys."""
        self.error = ""
        challenge, browser = self._challenge, self._browser_nonce()
        outcome = run_signed_out(
            lambda session: passkeys.begin_second_step(
                session, challenge=challenge, browser=browser
            )
        )
        if outcome.refused_as(InvalidToken):  # expired: back to the password
            self.step, self._challenge, self.error = "password", "", outcome.refusal.message
            return None
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        self.passkey_waiting = True
        return webauthn_script.get(outcome.value, LoginState.finish_passkey_step)

    @rx.event
    def finish_passkey_step(self, answer: str):
        self.passkey_waiting, self.error = False, ""
        challenge, browser = self._challenge, self._browser_nonce()
        outcome = run_signed_out(
            lambda session: passkeys.finish_second_step(
                session,
                challenge=challenge,
                answer=answer if isinstance(answer, str) else "",
                browser=browser,
            ),
            around=client_limits.sign_in_attempt(self._client_address()),
        )
        if outcome.refused_as(InvalidToken):
            self.step, self._challenge, self.error = "password", "", outcome.refusal.message
            return None
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        self.step, self._challenge = "password", ""
        return open_session(outcome.value.ticket, self.next_path)

    @rx.event
    async def submit_code(self, form: dict):
        """The second step: a code from the authenticator app, or a recovery code (then the
        page the user lands on says how many are left: `RecoveryCodesNotice`)."""
        self.error = ""
        challenge, browser = self._challenge, self._browser_nonce()
        # A wrong code is a failure of the address too, like a wrong password.
        outcome = run_signed_out(
            lambda session: two_factor.finish_sign_in(
                session, challenge=challenge, code=form.get("code", ""), browser=browser
            ),
            around=client_limits.sign_in_attempt(self._client_address()),
        )
        if outcome.refused_as(InvalidToken):  # expired: back to the password
            self.step, self._challenge, self.error = "password", "", outcome.refusal.message
            return None
        if not outcome.ok:
            self.error = outcome.refusal.message
            return None
        signed_in = outcome.value
        self.step, self._challenge = "password", ""
        if signed_in.recovery_codes_left is not None:
            notice = await self.get_state(RecoveryCodesNotice)
            notice._show(signed_in.recovery_codes_left)
        return open_session(signed_in.ticket, self.next_path)

    @rx.event
    def start_over(self):
        self._start_over()

    def _start_over(self) -> None:
        self.step, self._challenge, self.error = "password", "", ""
        self.passkey_waiting = False

    @rx.event
    def load(self):
        """The sign-in page's one load event: the password step, and the page loaded."""
        self._start_over()
        self._page_loaded()


class RegisterState(AppState):
    """After Create account the page says "check your inbox" whatever the address: a known
    one gets no new account and no session (accounts.register), so nobody is signed in."""

    errors: dict[str, str] = {}
    FORM: ClassVar[Form] = Form(errors="errors")
    sent_to: str = ""  # set: the "check your inbox" screen replaces the form

    @rx.var
    def sign_in_href(self) -> str:
        return routes.login(self.router.url.query_parameters.get("next"))

    @rx.event
    def start_over(self):
        self.errors, self.sent_to = {}, ""

    @rx.event
    async def submit(self, form: dict):
        self.errors = {}
        try:
            client_limits.check_registration(self._client_address())  # before any hashing
        except client_limits.TooManyAttempts as exc:
            return rx.toast.error(exc.message)
        registration = accounts.Registration(
            email=form.get("email", ""),
            password=form.get("password", ""),
            first_name=form.get("first_name", ""),
            last_name=form.get("last_name", ""),
        )

        outcome = await asyncio.to_thread(
            run_signed_out, lambda session: accounts.register(session, registration)
        )
        if not outcome.ok:
            self._show_refusal(outcome, self.FORM)
            return None
        self.sent_to = registration.email.strip().lower()
        return None


class ConfirmState(AppState):
    message: str = ""
    ok: bool = False
    sign_in_first: bool = False  # the link works once this browser is signed in to it

    @rx.event
    def confirm(self):
        token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.sign_in_first = False
        session_token = self._session_token()

        def confirm(session: Session) -> User:
            try:
                signed_in = accounts.authenticate(session, session_token).user.id
            except NotAuthenticated:
                signed_in = None
            return accounts.confirm_email(session, token, signed_in_user_id=signed_in)

        outcome = run_signed_out(confirm)
        if not outcome.ok:
            self.ok, self.message = False, outcome.refusal.message
            self.sign_in_first = outcome.refused_as(accounts.SignInToConfirm)
            return
        self.ok, self.message = True, f"Thank you: {outcome.value.email} is confirmed."

    @rx.var
    def sign_in_href(self) -> str:
        return routes.login(self.router.url.path.rstrip("/"))
