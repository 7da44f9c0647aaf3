"""/account/notifications: which notification mails the user gets (SPEC §17).

Thin: the kinds, their defaults and the validation are in `services/notifications.py`.
"""

from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal.services import notifications
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form


class NotificationSettingsState(AppState):
    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)
    enabled: dict[str, bool] = {}  # kind → on (the kinds themselves: notifications.KINDS)
    errors: dict[str, str] = {}
    form_key: int = 0  # moved on after a save, so the checkboxes mount with what was saved
    FORM: ClassVar[Form] = Form(errors="errors", general="notifications", key="form_key")

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.enabled = {
            kind.key: on for kind, on in notifications.preferences(session, user=viewer.user)
        }

    @rx.event
    def save(self, form: dict):
        """A checked box arrives as "on"; an unchecked one does not arrive at all."""
        enabled = {key for key, value in form.items() if value == "on"}
        return self._run(
            lambda s, v: notifications.update_preferences(s, user=v.user, enabled=enabled),
            form=self.FORM,
            done="Notification settings saved.",
        )
