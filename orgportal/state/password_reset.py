"""Forgot password (`/password-reset`, its mailed link) and the email-change link (SPEC §13).

Signed-out pages: each handler runs its one service call in its own unit of work.
"""

from typing import ClassVar

import reflex as rx

from orgportal import routes
from orgportal.db import unit_of_work
from orgportal.services import account_settings, password_reset
from orgportal.services.errors import DomainError, ValidationFailed
from orgportal.state.base import AppState

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
    sent_to: str = ""

    @rx.event
    def start_over(self):
        self.errors, self.sent_to = {}, ""

    @rx.event
    def submit(self, form: dict):
        self.errors = {}
        try:
            with unit_of_work() as session:
                address = password_reset.request_reset(session, email=form.get("email", ""))
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        self.sent_to = address

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
    # the account's address was never confirmed: setting a password clears it (account pre-hijacking)
    unconfirmed: bool = False

    @rx.event
    def check(self):
        self.checked, self.link_error, self.email, self.errors = False, "", "", {}
        try:
            with unit_of_work() as session:
                user = password_reset.check_link(session, token=_token(self.router.url.path))
                self.email = user.email
                self.unconfirmed = user.email_confirmed_at is None
        except DomainError as exc:
            self.link_error = exc.message
        self.checked = True

    @rx.event
    def submit(self, form: dict):
        self.errors = {}
        try:
            with unit_of_work() as session:
                done = password_reset.reset_password(
                    session,
                    token=_token(self.router.url.path),
                    password=form.get("password", ""),
                )
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except DomainError as exc:
            self.link_error = exc.message
            return
        return rx.redirect(f"{routes.LOGIN}?{'reclaimed' if done.reclaimed else 'reset'}=1")


class EmailChangeState(AppState):
    """`/account/email/<token>`: the link mailed to the new address applies the change."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    message: str = ""
    ok: bool = False

    @rx.event
    def confirm(self):
        self.message = ""
        try:
            with unit_of_work() as session:
                user = account_settings.confirm_email_change(
                    session, token=_token(self.router.url.path)
                )
                email = user.email
        except DomainError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, f"Your email address is now {email}."
