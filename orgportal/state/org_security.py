"""The organization's Security card on /organization/settings (SPEC §13): require two-factor
sign-in and the IP allowlist. Owner/Admin only; locked, with the reason, on other plans."""

import reflex as rx
from sqlmodel import Session

from orgportal.services import org_security
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState


class OrgSecurityState(AppState):
    available: bool = False
    locked_reason: str = ""
    require_two_factor: bool = False
    ip_allowlist: str = ""
    my_address: str = ""
    errors: dict[str, str] = {}
    form_key: int = 0
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
        needs_confirmation: list[str] = []
        saved: list[org_security.SecuritySettings] = []

        def action(session: Session, viewer: Viewer) -> None:
            try:
                settings = org_security.update_settings(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    require_two_factor=form.get("require_two_factor") == "on",
                    ip_allowlist=str(form.get("ip_allowlist", "")),
                    client_address=address,
                    confirm_own_address=confirmed,
                )
            except org_security.OwnAddressExcluded as exc:
                needs_confirmation.append(exc.message)
                raise
            saved.append(settings)

        # No reload: a list saved with "Save anyway" (or a requirement the editor does not
        # meet yet) refuses the editor from now on, and a refused reload would undo the save.
        events = self._run(action, errors="errors", field="ip_allowlist", reload=False)
        if needs_confirmation:
            self.errors = {}
            self._pending, self.confirm_message = dict(form), needs_confirmation[0]
            return None
        self._pending = {}
        if not saved:  # refused: by a field, or by the organization itself (its gate)
            return events
        self.require_two_factor = saved[0].require_two_factor
        self.ip_allowlist = saved[0].ip_allowlist
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
