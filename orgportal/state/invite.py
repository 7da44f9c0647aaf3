"""The accept page /support/invite/{token}: new user, existing user, signed-in user."""

from collections.abc import Callable
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.db import unit_of_work
from orgportal.services import accounts, invitations
from orgportal.services.accounts import Viewer
from orgportal.services.errors import (
    DomainError,
    InviteUnusable,
    NotAuthenticated,
    ValidationFailed,
)
from orgportal.state.base import AppState
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
        with unit_of_work() as session:
            try:
                details = invitations.inspect_invite(session, self._token())
            except InviteUnusable as exc:
                self.stage, self.message = "unusable", exc.message
                return
            self.org_name, self.org_description = (
                details.organization_name,
                details.organization_description,
            )
            self.role_label, self.invite_email = details.role.label, details.email
            try:
                viewer = self._viewer(session)
            except NotAuthenticated:
                self.signed_in = False
                self.unconfirmed_account = details.account_unconfirmed
                confirmed_account = details.has_account and not details.account_unconfirmed
                self.stage = "sign_in" if confirmed_account else "new_user"
                return
            self.stage = "confirm" if viewer.user.email == details.email else "mismatch"
            accept_now = (
                self.stage == "confirm"
                and self._accept_requested()
                and invitations.accepts_on_return(viewer)
            )
        if accept_now:  # back from this page's Sign in: no second click
            return self._accept()
        return None

    def _answer(self, respond: Callable[..., object], answered: str):
        """The use case of Accept / Decline (run by `_run`): on success the page moves to the
        stage `answered`; an unusable link (revoked, expired, used…) turns the page into the
        one that says which."""

        def action(session: Session, viewer: Viewer) -> None:
            try:
                respond(session, viewer=viewer, token=self._token())
            except InviteUnusable as exc:
                self.stage, self.message = "unusable", exc.message
                raise
            self.stage = answered

        return action

    @rx.event
    def accept(self):
        return self._accept()

    def _accept(self):
        events = self._run(self._answer(invitations.accept_invite, "joined"), reload=False)
        if self.stage == "joined":  # the organization is now the active workspace (same
            # session: a client-side page change), its overview filled meanwhile
            return [rx.redirect(routes.ORGANIZATION), AppState.fill_ahead(routes.ORGANIZATION)]
        return None if self.stage == "unusable" else events

    @rx.event
    def decline(self):
        events = self._run(self._answer(invitations.decline_invite, "declined"), reload=False)
        if self.stage == "declined":
            self.message = f"You declined the invitation to {self.org_name}."
            return None
        return None if self.stage == "unusable" else events

    @rx.event
    def register_and_accept(self, form: dict):
        """Case 1. Any email in the form is ignored: the invite's email is used."""
        self.errors = {}
        try:
            with unit_of_work() as session:
                user, org_id = invitations.accept_as_new_user(
                    session,
                    token=self._token(),
                    password=form.get("password", ""),
                    first_name=form.get("first_name", ""),
                    last_name=form.get("last_name", ""),
                )
                ticket = accounts.issue_sign_in_ticket(
                    session, user, org_id, browser=self._browser_nonce()
                )
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except InviteUnusable as exc:
            self.stage, self.message = "unusable", exc.message
            return
        except DomainError as exc:
            self.message = exc.message
            return
        return open_session(ticket, routes.ORGANIZATION)

    @rx.event
    def sign_out_here(self):
        """Sign out and come back to this invite page as a signed-out visitor."""
        return rx.call_script(
            "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            ".finally(() => window.location.reload())"
        )
