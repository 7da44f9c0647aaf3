"""The accept page /support/invite/{token}: new user, existing user, signed-in user."""

from collections.abc import Callable
from typing import ClassVar
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.services import accounts, invitations
from orgportal.services.accounts import Viewer
from orgportal.services.errors import (
    InviteUnusable,
    NotAuthenticated,
    ValidationFailed,
)
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.outcome import Form, Outcome
from orgportal.state.session_cookie import open_session

# The query marker the invite page's Sign in adds to its own address (see `sign_in_href`).
ACCEPT_MARKER = "accept"


class InviteState(AppState):
    # loading | unusable | new_user | sign_in | confirm | mismatch | declined | joined
    stage: str = "loading"
    message: str = ""
    org_name: str = ""
    org_description: str = ""
    role_label: str = ""
    invite_email: str = ""
    errors: dict[str, str] = {}
    FORM: ClassVar[Form] = Form(errors="errors")
    # the invited email has an account whose address was never confirmed (account pre-hijacking)
    unconfirmed_account: bool = False

    def _token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.var
    def sign_in_href(self) -> str:
        """Sign in (SPEC §4 case 2), then back here to accept at once (`?accept=1`), with the
        invited email filled in on the sign-in page."""
        back = routes.login(f"{self.router.url.path.rstrip('/')}?{ACCEPT_MARKER}=1")
        return f"{back}&email={quote(self.invite_email, safe='')}" if self.invite_email else back

    def _accept_requested(self) -> bool:
        return self.router.url.query_parameters.get(ACCEPT_MARKER) == "1"

    @rx.event
    def load(self):
        self.errors, self.message = {}, ""
        token = self._token()

        def inspect(session: Session) -> tuple[invitations.InviteDetails, Viewer | None]:
            details = invitations.inspect_invite(session, token)
            try:
                return details, self._viewer(session)  # and the top bar's profile menu
            except NotAuthenticated:
                return details, None

        outcome = run_signed_out(inspect)
        if not outcome.ok:
            self.stage, self.message = "unusable", outcome.refusal.message
            return None
        details, viewer = outcome.value
        self.org_name, self.org_description = (
            details.organization_name,
            details.organization_description,
        )
        self.role_label, self.invite_email = details.role.label, details.email
        if viewer is None:
            self.signed_in = False
            self.unconfirmed_account = details.account_unconfirmed
            confirmed_account = details.has_account and not details.account_unconfirmed
            self.stage = "sign_in" if confirmed_account else "new_user"
            return None
        self.stage = "confirm" if viewer.user.email == details.email else "mismatch"
        back_from_sign_in = self._accept_requested() and invitations.accepts_on_return(viewer)
        if self.stage == "confirm" and back_from_sign_in:  # no second click
            return self._accept()
        return None

    def _answer(self, respond: Callable[..., object]) -> Outcome:
        """Accept / Decline for the signed-in viewer; an unusable link (revoked, expired,
        used…) turns the page into the one that says which."""
        token = self._token()
        outcome = self._attempt(
            lambda session, viewer: respond(session, viewer=viewer, token=token), reload=False
        )
        if outcome.refused_as(InviteUnusable):
            self.stage, self.message = "unusable", outcome.refusal.message
        return outcome

    @rx.event
    def accept(self):
        return self._accept()

    def _accept(self):
        outcome = self._answer(invitations.accept_invite)
        if outcome.ok:  # the organization is now the active workspace (same session: a
            # client-side page change), its overview filled meanwhile
            self.stage = "joined"
            return [rx.redirect(routes.ORGANIZATION), AppState.fill_ahead(routes.ORGANIZATION)]
        return None if self.stage == "unusable" else outcome.events

    @rx.event
    def decline(self):
        outcome = self._answer(invitations.decline_invite)
        if outcome.ok:
            self.stage, self.message = "declined", f"You declined the invitation to {self.org_name}."
            return None
        return None if self.stage == "unusable" else outcome.events

    @rx.event
    def register_and_accept(self, form: dict):
        """Case 1. Any email in the form is ignored: the invite's email is used."""
        token, browser = self._token(), self._browser_nonce()

        def register(session: Session) -> str:
            user, org_id = invitations.accept_as_new_user(
                session,
                token=token,
                password=form.get("password", ""),
                first_name=form.get("first_name", ""),
                last_name=form.get("last_name", ""),
            )
            return accounts.issue_sign_in_ticket(session, user, org_id, browser=browser)

        outcome = run_signed_out(register)
        self._show_refusal(outcome, self.FORM)
        if outcome.refused_as(InviteUnusable):
            self.stage, self.message = "unusable", outcome.refusal.message
        elif not outcome.ok and not outcome.refused_as(ValidationFailed):
            self.message = outcome.refusal.message
        if not outcome.ok:
            return None
        return open_session(outcome.value, routes.ORGANIZATION)

    @rx.event
    def sign_out_here(self):
        """Sign out and come back to this invite page as a signed-out visitor."""
        return rx.call_script(
            "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            ".finally(() => window.location.reload())"
        )
