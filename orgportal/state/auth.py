"""Register, sign in and email confirmation pages.

Sign-in and registration hash a password (argon2id, deliberately slow: 64 MiB, 3 passes), so
their work runs in a worker thread (`asyncio.to_thread`): a burst of sign-ins must not hold
up every other page and request on the worker's event loop (SPEC §18)."""

import asyncio

import reflex as rx

from orgportal import routes
from orgportal.db import unit_of_work
from orgportal.services import accounts, client_limits, two_factor
from orgportal.services.errors import DomainError, InvalidToken, NotAuthenticated, ValidationFailed
from orgportal.services.validation import FieldError, normalize_email
from orgportal.state.base import AppState
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

        def sign_in() -> "str | accounts.SecondStep":
            # Refused before any hashing when the address failed too often; counts a failure.
            with client_limits.sign_in_attempt(address), unit_of_work() as session:
                return accounts.sign_in(
                    session,
                    email=form.get("email", ""),
                    password=form.get("password", ""),
                    browser=browser,
                )

        try:
            ticket = await asyncio.to_thread(sign_in)
        except DomainError as exc:
            self.error = exc.message
            return
        if isinstance(ticket, accounts.SecondStep):
            self.step, self._challenge = "code", ticket.challenge
            return
        return open_session(ticket, self.next_path)

    @rx.event
    async def submit_code(self, form: dict):
        """The second step: a code from the authenticator app, or a recovery code (then the
        page the user lands on says how many are left: `RecoveryCodesNotice`)."""
        self.error = ""
        try:
            # A wrong code is a failure of the address too, like a wrong password.
            with client_limits.sign_in_attempt(self._client_address()), unit_of_work() as session:
                signed_in = two_factor.finish_sign_in(
                    session,
                    challenge=self._challenge,
                    code=form.get("code", ""),
                    browser=self._browser_nonce(),
                )
        except InvalidToken as exc:  # expired: back to the password
            self.step, self._challenge, self.error = "password", "", exc.message
            return
        except DomainError as exc:
            self.error = exc.message
            return
        self.step, self._challenge = "password", ""
        if signed_in.recovery_codes_left is not None:
            notice = await self.get_state(RecoveryCodesNotice)
            notice._show(signed_in.recovery_codes_left)
        return open_session(signed_in.ticket, self.next_path)

    @rx.event
    def start_over(self):
        self.step, self._challenge, self.error = "password", "", ""


class RegisterState(AppState):
    """After Create account the page says "check your inbox" whatever the address: a known
    one gets no new account and no session (accounts.register), so nobody is signed in."""

    errors: dict[str, str] = {}
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

        def register() -> None:
            with unit_of_work() as session:
                accounts.register(session, registration)

        try:
            await asyncio.to_thread(register)
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        self.sent_to = registration.email.strip().lower()


class ConfirmState(AppState):
    message: str = ""
    ok: bool = False
    sign_in_first: bool = False  # the link works once this browser is signed in to it

    @rx.event
    def confirm(self):
        token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.sign_in_first = False
        try:
            with unit_of_work() as session:
                try:
                    signed_in = accounts.authenticate(session, self._session_token()).user.id
                except NotAuthenticated:
                    signed_in = None
                user = accounts.confirm_email(session, token, signed_in_user_id=signed_in)
        except accounts.SignInToConfirm as exc:
            self.ok, self.message, self.sign_in_first = False, exc.message, True
            return
        except DomainError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, f"Thank you: {user.email} is confirmed."

    @rx.var
    def sign_in_href(self) -> str:
        return routes.login(self.router.url.path.rstrip("/"))
