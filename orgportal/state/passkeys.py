"""Passkeys on /account → Sign-in & security: add one (name and password, then the browser's
passkey dialog), the list with created and last used, remove one (SPEC §13, §16).

Adding is two events: `begin_add` checks the password and gets the options from the
service, then the browser runs `navigator.credentials.create` (`webauthn_script`) and
sends its answer to `finish_add`, which the service verifies against the challenge it keeps.
"""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.services import passkeys, two_factor
from orgportal.services.accounts import Viewer
from orgportal.state import webauthn_script
from orgportal.state.base import AppState
from orgportal.state.outcome import Form


@dataclasses.dataclass
class PasskeyItem:
    id: int
    name: str
    created: str
    last_used: str


class PasskeyState(AppState):

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)
    rows: list[PasskeyItem] = []
    has_code: bool = False  # an authenticator app: a current code may stand in for the password
    errors: dict[str, str] = {}
    form_key: int = 0
    waiting: bool = False  # the browser's passkey dialog is open
    # the Remove dialog: which passkey (0: closed)
    removing_id: int = 0
    removing_name: str = ""
    remove_errors: dict[str, str] = {}
    ADD_FORM: ClassVar[Form] = Form(errors="errors", general="passkey_form")
    REMOVE_FORM: ClassVar[Form] = Form(
        errors="remove_errors",
        general="remove_password",
        names={"passkey_password": "remove_password", "passkey_code": "remove_code"},
    )

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.has_code = two_factor.totp_enabled(session, viewer.user.id)
        self.rows = [
            PasskeyItem(
                id=p.id or 0,
                name=p.name,
                created=formatting.date_time(p.created_at),
                last_used=formatting.date_time(p.last_used_at) if p.last_used_at else "Never",
            )
            for p in passkeys.list_passkeys(session, user=viewer.user)
        ]

    @rx.event
    def begin_add(self, form: dict):
        browser = self._browser_nonce()
        outcome = self._attempt(
            lambda s, v: passkeys.begin_registration(
                s,
                user=v.user,
                name=form.get("passkey_name", ""),
                password=form.get("passkey_password", ""),
                code=form.get("passkey_code", ""),
                browser=browser,
            ),
            form=self.ADD_FORM,
            reload=False,
        )
        if not outcome.ok:
            return outcome.events
        self.waiting = True
        return webauthn_script.create(outcome.value, PasskeyState.finish_add)

    @rx.event
    def finish_add(self, answer: str):
        self.waiting = False
        browser = self._browser_nonce()
        outcome = self._attempt(
            lambda s, v: passkeys.finish_registration(
                s, user=v.user, answer=answer if isinstance(answer, str) else "", browser=browser
            ),
            form=self.ADD_FORM,
        )
        if outcome.ok:
            self.form_key += 1
            return rx.toast.success(f"Passkey “{outcome.value.name}” added.")
        return outcome.events

    @rx.event
    def ask_remove(self, passkey_id: int, name: str):
        self.removing_id, self.removing_name, self.remove_errors = passkey_id, name, {}

    @rx.event
    def close_remove(self, open_: bool = False):
        if not open_:
            self.removing_id, self.removing_name, self.remove_errors = 0, "", {}

    @rx.event
    def remove(self, form: dict):
        passkey_id, name = self.removing_id, self.removing_name
        outcome = self._attempt(
            lambda s, v: passkeys.remove(
                s,
                user=v.user,
                passkey_id=passkey_id,
                password=form.get("remove_password", ""),
                code=form.get("remove_code", ""),
            ),
            form=self.REMOVE_FORM,
        )
        if outcome.ok:
            self.removing_id, self.removing_name = 0, ""
            return rx.toast.success(f"Passkey “{name}” removed.")
        return outcome.events
