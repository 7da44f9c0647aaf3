"""The organization's Security card on /organization/settings (SPEC §13): require two-factor
sign-in and the IP allowlist. Owner/Admin only; locked, with the reason, on other plans."""

from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal.services import org_security
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form


class OrgSecurityState(AppState):
    available: bool = False
    locked_reason: str = ""
    require_two_factor: bool = False
    ip_allowlist: str = ""
    my_address: str = ""
    errors: dict[str, str] = {}
    form_key: int = 0
    SETTINGS_FORM: ClassVar[Form] = Form(errors="errors", general="ip_allowlist")
    # A save that would refuse the editor's own address waits here for "Save anyway".
    confirm_message: str = ""
    _pending: dict = {}

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.my_address = self._client_address()
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.available, self.locked_reason = False, ""
            return
        current = org_security.get_settings(session, user=viewer.user, organization_id=org_id)
        shown = (self.require_two_factor, self.ip_allowlist)
        self.available, self.locked_reason = current.available, current.locked_reason
        self.require_two_factor, self.ip_allowlist = (
            current.require_two_factor,
            current.ip_allowlist,
        )
        if shown != (self.require_two_factor, self.ip_allowlist):
            self.form_key += 1

    def _save(self, form: dict, *, confirmed: bool):
        self.confirm_message = ""
        address = self._client_address()
        # No reload: a list saved with "Save anyway" (or a requirement the editor does not
        # meet yet) refuses the editor from now on, and a refused reload would undo the save.
        outcome = self._act(
            org_security.update_settings,
            form=self.SETTINGS_FORM,
            reload=False,
            require_two_factor=form.get("require_two_factor") == "on",
            ip_allowlist=str(form.get("ip_allowlist", "")),
            client_address=address,
            confirm_own_address=confirmed,
        )
        if outcome.refused_as(org_security.OwnAddressExcluded):
            self.errors = {}
            self._pending, self.confirm_message = dict(form), outcome.refusal.message
            return None
        self._pending = {}
        if not outcome.ok:  # refused: by a field, or by the organization itself (its gate)
            return outcome.events
        self.require_two_factor = outcome.value.require_two_factor
        self.ip_allowlist = outcome.value.ip_allowlist
        self.form_key += 1
        return rx.toast.success("Security settings saved.")

    @rx.event
    def save(self, form: dict):
        return self._save(form, confirmed=False)

    @rx.event
    def save_anyway(self):
        return self._save(self._pending, confirmed=True)

    @rx.event
    def cancel_confirmation(self, open_: bool = False):
        if not open_:
            self.confirm_message, self._pending = "", {}
