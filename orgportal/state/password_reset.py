"""Forgot password (`/password-reset`, its mailed link) and the email-change link (SPEC §13).

Signed-out pages: each handler runs its one service call through `run_signed_out`.
"""

from typing import ClassVar

import reflex as rx

from orgportal import routes
from orgportal.services import account_settings, password_reset
from orgportal.services.errors import ValidationFailed
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.outcome import Form

LOGIN_NOTICES = {
    "reset": "Your password has been changed, every session signed out and your API keys "
    "revoked. Sign in with your new password.",
    "reclaimed": "Your password is set and your email address confirmed. What the account "
    "held before its address was confirmed has been cleared. Sign in with your new password.",
    "deleted": "Your account has been deleted.",
}


def _token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class PasswordResetState(AppState):
    """`/password-reset`: the same "check your inbox" answer for every address."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    errors: dict[str, str] = {}
    FORM: ClassVar[Form] = Form(errors="errors", general="email")
    sent_to: str = ""

    @rx.event
    def start_over(self):
        self.errors, self.sent_to = {}, ""

    @rx.event
    def submit(self, form: dict):
        outcome = run_signed_out(
            lambda session: password_reset.request_reset(session, email=form.get("email", ""))
        )
        self._show_refusal(outcome, self.FORM)
        if outcome.ok:
            self.sent_to = outcome.value

    @rx.var
    def login_notice(self) -> str:
        """The sign-in page's note after a reset (`?reset=1`) or a deleted account."""
        query = self.router.url.query_parameters
        return next((text for key, text in LOGIN_NOTICES.items() if query.get(key)), "")


class ResetLinkState(AppState):
    """`/password-reset/<token>`: says at once whether the link still works, then sets the
    new password and sends the person to sign in with it."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    checked: bool = False
    link_error: str = ""
    email: str = ""
    errors: dict[str, str] = {}
    FORM: ClassVar[Form] = Form(errors="errors")
    # the account's address was never confirmed: setting a password clears it (account pre-hijacking)
    unconfirmed: bool = False

    @rx.event
    def check(self):
        self.checked, self.link_error, self.email, self.errors = False, "", "", {}
        token = _token(self.router.url.path)
        outcome = run_signed_out(lambda session: password_reset.check_link(session, token=token))
        if outcome.ok:
            self.email = outcome.value.email
            self.unconfirmed = outcome.value.email_confirmed_at is None
        else:
            self.link_error = outcome.refusal.message
        self.checked = True

    @rx.event
    def submit(self, form: dict):
        token = _token(self.router.url.path)
        outcome = run_signed_out(
            lambda session: password_reset.reset_password(
                session, token=token, password=form.get("password", "")
            )
        )
        self._show_refusal(outcome, self.FORM)  # the password's own problems
        if not outcome.ok:
            if not outcome.refused_as(ValidationFailed):  # the link itself
                self.link_error = outcome.refusal.message
            return None
        reclaimed = outcome.value.reclaimed
        return rx.redirect(f"{routes.LOGIN}?{'reclaimed' if reclaimed else 'reset'}=1")


class EmailChangeState(AppState):
    """`/account/email/<token>`: the link mailed to the new address applies the change."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    message: str = ""
    ok: bool = False

    @rx.event
    def confirm(self):
        self.message = ""
        token = _token(self.router.url.path)
        outcome = run_signed_out(
            lambda session: account_settings.confirm_email_change(session, token=token).email
        )
        if not outcome.ok:
            self.ok, self.message = False, outcome.refusal.message
            return
        self.ok, self.message = True, f"Your email address is now {outcome.value}."
