"""Two-factor sign-in on /account (set up, recovery codes, turn off) and the pages an
organization's Security settings send a refused member to (SPEC §13).

The recovery codes exist only in `new_codes` of this tab right after they are made; `_load`
clears them, so a reload never shows them again.
"""

from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.models import User
from orgportal.services import org_security, two_factor
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.stored import StoredWhenUsed

CODES_FILE = "orgportal-recovery-codes.txt"


class TwoFactorState(AppState):
    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)
    enabled: bool = False
    codes_left: int = 0
    # set-up in progress: the secret (for manual entry) and its QR code
    setup_secret: str = ""
    setup_qr: str = ""
    new_codes: list[str] = []
    errors: dict[str, str] = {}
    form_key: int = 0
    # the service's field names are the account page's other password and code fields
    SETUP_FORM: ClassVar[Form] = Form(
        errors="errors", general="setup_code", names={"code": "setup_code"}
    )
    DISABLE_FORM: ClassVar[Form] = Form(
        errors="errors",
        general="disable_code",
        key="form_key",
        names={"code": "disable_code", "password": "disable_password"},
    )
    REGENERATE_FORM: ClassVar[Form] = Form(
        errors="errors", general="regenerate_code", names={"code": "regenerate_code"}
    )

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.enabled = two_factor.totp_enabled(session, viewer.user.id)
        self.codes_left = two_factor.recovery_codes_left(session, viewer.user)
        self.new_codes = []
        if self.enabled:
            self.setup_secret = self.setup_qr = ""

    def _show_codes(self, codes: list[str]) -> None:
        if codes:  # after the reload, which clears codes shown before
            self.new_codes = codes
            self.form_key += 1

    @rx.event
    def begin_setup(self):
        outcome = self._attempt(lambda s, v: two_factor.start_setup(s, user=v.user))
        if outcome.ok:
            self.setup_secret, self.setup_qr = outcome.value.secret, outcome.value.qr_data_uri
            self.errors = {}
        return outcome.events

    @rx.event
    def cancel_setup(self):
        self.setup_secret = self.setup_qr = ""
        self.errors = {}

    @rx.event
    def confirm_setup(self, form: dict):
        outcome = self._attempt(
            lambda s, v: two_factor.confirm_setup(s, user=v.user, code=form.get("setup_code", "")),
            form=self.SETUP_FORM,
        )
        if outcome.ok:
            self.setup_secret = self.setup_qr = ""
            self._show_codes(outcome.value)
            return [rx.toast.success("Two-factor sign-in is on.")]
        return outcome.events

    @rx.event
    def disable(self, form: dict):
        return self._run(
            lambda s, v: two_factor.disable(
                s,
                user=v.user,
                password=form.get("disable_password", ""),
                code=form.get("disable_code", ""),
            ),
            form=self.DISABLE_FORM,
            done="Two-factor sign-in is off.",
        )

    @rx.event
    def regenerate(self, form: dict):
        outcome = self._attempt(
            lambda s, v: two_factor.regenerate_recovery_codes(
                s, user=v.user, code=form.get("regenerate_code", "")
            ),
            form=self.REGENERATE_FORM,
        )
        self._show_codes(outcome.value or [])
        return outcome.events

    @rx.event
    def download_codes(self):
        return rx.download(data=two_factor.recovery_codes_text(self.new_codes), filename=CODES_FILE)

    @rx.event
    def dismiss_codes(self):
        self.new_codes = []


class RecoveryCodesNotice(StoredWhenUsed, rx.State):
    """After a sign-in with a recovery code, the pages say how many are left until dismissed:
    the codes are the way back in when the phone is lost. Kept in this tab's
    session storage, as the sign-in ends with a full page load (a new websocket)."""

    codes_left: str = rx.SessionStorage("", name="recovery_codes_left")

    @rx.var
    def message(self) -> str:
        if self.codes_left == "":
            return ""
        left = int(self.codes_left) if self.codes_left.isdigit() else 0
        if left == 0:
            return "You used your last recovery code. Make new ones now"
        are = "1 is" if left == 1 else f"{left} are"
        return f"You used a recovery code; {are} left. Make new ones"

    def _show(self, codes_left: int) -> None:
        self.codes_left = str(max(codes_left, 0))

    @rx.event
    def dismiss(self):
        self.codes_left = ""


class SecurityGateState(AppState):
    """The "set up two-factor sign-in to continue" and "address not allowed" pages: which
    organization refused the viewer, why, and the address it saw; empty once it no longer
    does (then the page offers to continue)."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    org_name: str = ""
    reason: str = ""
    address: str = ""
    message: str = ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.address = self._client_address()
        self.org_name = self.reason = self.message = ""
        try:
            _check(session, viewer.user, viewer.session.active_org_id, self.address)
        except org_security.AccessRefused as exc:
            self.org_name, self.reason, self.message = (
                exc.organization_name,
                exc.reason,
                exc.message,
            )

    @rx.event
    def to_personal(self):
        return AppState.switch_workspace(0, routes.ORGANIZATION)

    @rx.event
    def continue_on(self):
        return rx.redirect(routes.ORGANIZATION)  # same session: a client-side page change


def _check(session: Session, user: User, organization_id: int | None, address: str) -> None:
    org_security.check_access(session, user=user, organization_id=organization_id, address=address)
