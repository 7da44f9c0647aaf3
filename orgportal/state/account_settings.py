"""/account self-service (SPEC §13): Profile, Password, Email, Sessions, Delete account.

Thin: every rule is in `services/account_settings.py` and `services/user_sessions.py`.
Password fields are never kept in the state: forms submit them once and are re-keyed.
"""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.db import unit_of_work
from orgportal.services import account_settings, accounts, user_sessions
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.state.base import AppState
from orgportal.state.outcome import Form


@dataclasses.dataclass
class SessionRow:
    id: int
    browser: str
    address: str
    created: str
    last_seen: str
    current: bool


class AccountSettingsState(AppState):
    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)
    first_name: str = ""
    last_name: str = ""
    pending_email: str = ""
    profile_errors: dict[str, str] = {}
    password_errors: dict[str, str] = {}
    email_errors: dict[str, str] = {}
    delete_errors: dict[str, str] = {}
    profile_key: int = 0
    password_key: int = 0
    email_key: int = 0
    PROFILE_FORM: ClassVar[Form] = Form(
        errors="profile_errors", general="profile_form", key="profile_key"
    )
    PASSWORD_FORM: ClassVar[Form] = Form(
        errors="password_errors", general="password_form", key="password_key"
    )
    EMAIL_FORM: ClassVar[Form] = Form(errors="email_errors", general="email_form", key="email_key")
    sessions: list[SessionRow] = []
    sessions_total: int = 0
    sessions_offset: int = 0
    owned_organizations: list[str] = []

    def _load(self, session: Session, viewer: Viewer) -> None:
        user = viewer.user
        self.first_name, self.last_name = user.first_name, user.last_name
        self.pending_email = account_settings.pending_email_change(session, user=user)
        self.owned_organizations = account_settings.owned_organizations(session, user=user)
        self._load_sessions(session, viewer)

    def _load_sessions(self, session: Session, viewer: Viewer) -> None:
        page = user_sessions.list_sessions(
            session, user=viewer.user, current_id=viewer.session.id, offset=self.sessions_offset
        )
        if not page.sessions and page.offset:  # the last page emptied: show the one before
            page = user_sessions.list_sessions(
                session,
                user=viewer.user,
                current_id=viewer.session.id,
                offset=max(0, page.offset - page.limit),
            )
        self.sessions_total, self.sessions_offset = page.total, page.offset
        self.sessions = [
            SessionRow(
                id=s.id,
                browser=s.browser,
                address=s.address,
                created=formatting.date_time(s.created_at),
                last_seen=formatting.date_time(s.last_seen_at) or "Not yet",
                current=s.current,
            )
            for s in page.sessions
        ]

    # --- profile, password, email -----------------------------------------------------------

    @rx.event
    def save_profile(self, form: dict):
        return self._run(
            lambda s, v: account_settings.update_profile(
                s,
                user=v.user,
                first_name=form.get("first_name", ""),
                last_name=form.get("last_name", ""),
            ),
            form=self.PROFILE_FORM,
            done="Your name is saved.",
        )

    @rx.event
    def change_password(self, form: dict):
        outcome = self._attempt(
            lambda s, v: account_settings.change_password(
                s,
                user=v.user,
                current_session_id=v.session.id,
                current_password=form.get("current_password", ""),
                password=form.get("password", ""),
            ),
            form=self.PASSWORD_FORM,
        )
        if not outcome.ok:
            return outcome.events
        return rx.toast.success(f"Password changed. {outcome.value.sentence()}")

    @rx.event
    def request_email_change(self, form: dict):
        address = str(form.get("new_email", "")).strip().lower()
        return self._run(
            lambda s, v: account_settings.request_email_change(
                s,
                user=v.user,
                password=form.get("email_password", ""),
                new_email=form.get("new_email", ""),
            ),
            form=self.EMAIL_FORM,
            done=f"We sent a confirmation link to {address}. Your email changes when you open it.",
        )

    @rx.event
    def cancel_email_change(self):
        return self._run(
            lambda s, v: account_settings.cancel_email_change(s, user=v.user),
            done="The email change is canceled: its link no longer works.",
        )

    # --- sessions -----------------------------------------------------------------------------

    @rx.event
    def revoke_session(self, session_id: int):
        return self._run(
            lambda s, v: user_sessions.revoke_session(s, user=v.user, session_id=session_id),
            done="That session is signed out.",
        )

    @rx.event
    def revoke_other_sessions(self):
        outcome = self._attempt(
            lambda s, v: account_settings.sign_out_everywhere_else(
                s, user=v.user, current_session_id=v.session.id
            )
        )
        if not outcome.ok:
            return outcome.events
        done = outcome.value
        keys = f" {done.api_keys} API key{'s' if done.api_keys != 1 else ''} revoked."
        return rx.toast.success(
            f"Signed out {done.sessions} other session{'s' if done.sessions != 1 else ''}."
            + (keys if done.api_keys else "")
        )

    @rx.event
    def sessions_page(self, offset: int):
        self.sessions_offset = max(0, offset)
        return self._run(lambda s, v: None)

    # --- delete -------------------------------------------------------------------------------

    @rx.event
    def delete_account(self, form: dict):
        """Not through `_run`: after the delete there is no viewer to reload the page for."""
        self.delete_errors = {}
        try:
            with unit_of_work() as session:
                viewer = accounts.authenticate(session, self._session_token())
                account_settings.delete_account(
                    session,
                    user=viewer.user,
                    password=form.get("delete_password", ""),
                    confirm_email=form.get("confirm_email", ""),
                )
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.delete_errors = exc.errors
            return None
        except DomainError as exc:
            self.delete_errors = {"delete_form": exc.message}
            return None
        self.signed_in = False
        return rx.call_script(
            "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            f".finally(() => window.location.assign('{routes.LOGIN}?deleted=1'))"
        )

    @rx.var
    def sessions_range(self) -> str:
        """ "1–20 of 34" under the sessions list, "" when one page holds them all."""
        if self.sessions_total <= user_sessions.PAGE_SIZE:
            return ""
        last = self.sessions_offset + len(self.sessions)
        return f"{self.sessions_offset + 1}–{last} of {self.sessions_total}"

    @rx.var
    def has_previous_sessions(self) -> bool:
        return self.sessions_offset > 0

    @rx.var
    def has_more_sessions(self) -> bool:
        return self.sessions_offset + len(self.sessions) < self.sessions_total

    @rx.var
    def other_sessions(self) -> int:
        return max(0, self.sessions_total - 1)

    @rx.var
    def owned_text(self) -> str:
        return ", ".join(self.owned_organizations)
