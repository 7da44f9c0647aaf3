"""/account: the user's API keys — create (shown once), list, revoke (SPEC §8).

The full key exists only in `new_key` of this tab's state right after creation; `load`
clears it, so a reload or a later visit never shows it again (only its prefix).
"""

import dataclasses

import reflex as rx

from orgportal.db import unit_of_work
from orgportal.models import ApiKey
from orgportal.services import api_keys
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.state.base import AppState


@dataclasses.dataclass
class KeyRow:
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    workspace: str


class AccountState(AppState):
    keys: list[KeyRow] = []
    new_key: str = ""
    new_key_name: str = ""
    errors: dict[str, str] = {}
    error: str = ""
    form_key: int = 0

    @rx.event
    def load(self):
        self.new_key, self.new_key_name, self.errors, self.error = "", "", {}, ""
        return self._refresh()

    def _refresh(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                self.keys = [
                    self._row(key) for key in api_keys.list_keys(session, user=viewer.user)
                ]
        except NotAuthenticated:
            return self._to_login()

    def _row(self, key: ApiKey) -> KeyRow:
        names = {w.id: w.name for w in self.workspaces}
        return KeyRow(
            id=key.id,
            name=key.name,
            prefix=f"{key.prefix}…",
            created=f"{key.created_at:%d %b %Y %H:%M}",
            last_used=f"{key.last_used_at:%d %b %Y %H:%M}" if key.last_used_at else "Never",
            workspace=names.get(key.active_org_id or 0, "Personal Workspace"),
        )

    @rx.event
    def create(self, form: dict):
        """A key for the active workspace; the secret is shown once, above the list."""
        self.errors, self.error = {}, ""
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                raw, key = api_keys.create_key(
                    session,
                    user=viewer.user,
                    name=form.get("name", ""),
                    active_org_id=viewer.session.active_org_id,
                )
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except DomainError as exc:
            self.error = exc.message
            return
        self.new_key, self.new_key_name = raw, key.name
        self.form_key += 1
        return self._refresh()

    @rx.event
    def copy_new_key(self):
        return [rx.set_clipboard(self.new_key), rx.toast.success("API key copied.")]

    @rx.event
    def dismiss_new_key(self):
        self.new_key, self.new_key_name = "", ""

    @rx.event
    def revoke(self, key_id: int):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                key = api_keys.revoke_key(session, user=viewer.user, key_id=key_id)
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._refresh()
        return rx.toast.success(f"Revoked {key.name}. It stops working now.")
