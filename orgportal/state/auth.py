"""Register, sign in and email confirmation pages."""

import reflex as rx

from orgportal import routes
from orgportal.db import unit_of_work
from orgportal.services import accounts
from orgportal.services.errors import DomainError, ValidationFailed
from orgportal.state.base import AppState, navigate


class LoginState(AppState):
    error: str = ""
    pending: bool = False

    @rx.var
    def next_path(self) -> str:
        return accounts.safe_next(self.router.url.query_parameters.get("next"))

    @rx.var
    def register_href(self) -> str:
        nxt = self.router.url.query_parameters.get("next")
        return f"{routes.REGISTER}?next={nxt}" if nxt else routes.REGISTER

    @rx.event
    def submit(self, form: dict):
        self.error = ""
        try:
            with unit_of_work() as session:
                ticket = accounts.sign_in(
                    session, email=form.get("email", ""), password=form.get("password", "")
                )
        except DomainError as exc:
            self.error = exc.message
            return
        return navigate(routes.open_session(ticket, self.next_path))


class RegisterState(AppState):
    errors: dict[str, str] = {}

    @rx.event
    def submit(self, form: dict):
        self.errors = {}
        registration = accounts.Registration(
            email=form.get("email", ""),
            password=form.get("password", ""),
            first_name=form.get("first_name", ""),
            last_name=form.get("last_name", ""),
        )
        try:
            with unit_of_work() as session:
                user = accounts.register(session, registration)
                ticket = accounts.issue_sign_in_ticket(session, user)
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        nxt = accounts.safe_next(self.router.url.query_parameters.get("next"))
        return navigate(routes.open_session(ticket, nxt))


class ConfirmState(AppState):
    message: str = ""
    ok: bool = False

    @rx.event
    def confirm(self):
        token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            with unit_of_work() as session:
                user = accounts.confirm_email(session, token)
        except DomainError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, f"Thank you: {user.email} is confirmed."
