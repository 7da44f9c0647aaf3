"""/account: the user's API keys — create (shown once), list, revoke (SPEC §8).

The full key exists only in `new_key` of this tab's state right after creation; `_load`
clears it, so a reload or a later visit never shows it again (only its prefix).
"""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.models import ApiKey
from orgportal.services import api_keys, two_factor
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form


@dataclasses.dataclass
class KeyRow:
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    workspace: str


class AccountState(AppState):

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)
    keys: list[KeyRow] = []
    new_key: str = ""
    new_key_name: str = ""
    _new_key_id: int = 0
    errors: dict[str, str] = {}
    form_key: int = 0
    KEY_FORM: ClassVar[Form] = Form(errors="errors", general="name", key="form_key")
    has_two_factor: bool = False  # then a current code may stand in for the password

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.has_two_factor = two_factor.totp_enabled(session, viewer.user.id)
        self.new_key, self.new_key_name, self._new_key_id = "", "", 0
        self.keys = [self._row(key) for key in api_keys.list_keys(session, user=viewer.user)]

    def _row(self, key: ApiKey) -> KeyRow:
        names = {w.id: w.name for w in self.workspaces}
        return KeyRow(
            id=key.id,
            name=key.name,
            prefix=f"{key.prefix}…",
            created=formatting.date_time(key.created_at),
            last_used=formatting.date_time(key.last_used_at) if key.last_used_at else "Never",
            workspace=names.get(key.active_org_id or 0, "Personal Workspace"),
        )

    @rx.event
    def create(self, form: dict):
        """A key for the active workspace; the secret is shown once, above the list."""
        outcome = self._attempt(
            lambda s, v: api_keys.create_key(
                s,
                user=v.user,
                name=form.get("name", ""),
                active_org_id=v.session.active_org_id,
                password=str(form.get("key_password", "")),
                code=str(form.get("key_code", "")),
            ),
            form=self.KEY_FORM,
        )
        if outcome.ok:  # after the reload, which clears any key shown before
            raw, key = outcome.value
            self.new_key, self.new_key_name, self._new_key_id = raw, key.name, key.id
        return outcome.events

    @rx.event
    def copy_new_key(self):
        return [rx.set_clipboard(self.new_key), rx.toast.success("API key copied.")]

    @rx.event
    def dismiss_new_key(self):
        self.new_key, self.new_key_name, self._new_key_id = "", "", 0

    @rx.event
    def revoke(self, key_id: int):
        shown = (self.new_key, self.new_key_name, self._new_key_id)
        name = next((k.name for k in self.keys if k.id == key_id), "the key")
        events = self._run(
            lambda s, v: api_keys.revoke_key(s, user=v.user, key_id=key_id),
            done=f"Revoked {name}. It stops working now.",
        )
        if shown[2] != key_id:  # a key just created stays on show while others are revoked
            self.new_key, self.new_key_name, self._new_key_id = shown
        return events
