"""The root of orgportal's states: who is signed in, and their workspaces.

Nothing here trusts the browser: every handler re-reads the session from the HttpOnly
cookie of the websocket handshake and re-checks it against the database.
"""

import dataclasses
import json
from http.cookies import SimpleCookie

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.config import settings as app_settings
from orgportal.db import unit_of_work
from orgportal.services import accounts
from orgportal.services.accounts import Viewer
from orgportal.services.client_address import client_address
from orgportal.services.errors import DomainError, NotAuthenticated


@dataclasses.dataclass
class WorkspaceItem:
    id: int  # 0 is the Personal Workspace
    name: str
    role: str


class AppState(rx.State):
    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    email_confirmed: bool = True
    workspaces: list[WorkspaceItem] = []
    active_org_id: int = 0

    def _cookie(self, name: str) -> str | None:
        """A cookie of the websocket handshake (HttpOnly cookies included)."""
        jar = SimpleCookie()
        try:
            jar.load(self.router.headers.cookie or "")
        except Exception:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def _session_token(self) -> str | None:
        return self._cookie(routes.SESSION_COOKIE)

    def _browser_nonce(self) -> str:
        """This browser's sign-in nonce (set by the gateway on the first page load); a sign-in
        ticket is bound to it, so only this browser can redeem it (no login CSRF)."""
        return self._cookie(app_settings.browser_cookie) or ""

    def _client_address(self) -> str:
        """The caller's address (SPEC §11): the websocket's peer, or X-Forwarded-For when the
        peer is in TRUSTED_PROXIES. `session.client_ip` is the ASGI peer as long as Reflex's
        own `trusted_proxy_hops` stays 0 (its default; rxconfig.py does not set it)."""
        forwarded = self.router.headers.raw_headers.get("x-forwarded-for")
        return client_address(self.router.session.client_ip, forwarded)

    def _viewer(self, session: Session) -> Viewer:
        """The signed-in user, or NotAuthenticated; refreshes the profile menu data."""
        viewer = accounts.authenticate(session, self._session_token())
        self.signed_in = True
        self.user_name = viewer.user.display_name
        self.user_email = viewer.user.email
        self.email_confirmed = viewer.user.email_confirmed_at is not None
        self.active_org_id = viewer.session.active_org_id or 0
        self.workspaces = [
            WorkspaceItem(id=w.organization_id or 0, name=w.name, role=w.role)
            for w in accounts.list_workspaces(session, viewer.user)
        ]
        return viewer

    def _to_login(self):
        self.signed_in = False
        return rx.redirect(routes.login(self.router.url.path or routes.ORGANIZATION))

    @rx.event
    def switch_workspace(self, organization_id: int):
        """Profile menu → Switch Organization; remembered on the server-side session."""
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                accounts.switch_workspace(session, viewer, organization_id or None)
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return navigate(routes.ORGANIZATION)

    @rx.event
    def sign_out(self):
        self.signed_in = False
        return rx.call_script(
            "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            ".finally(() => window.location.assign('/login'))"
        )

    @rx.event
    def resend_confirmation(self):
        with unit_of_work() as session:
            try:
                viewer = self._viewer(session)
            except NotAuthenticated:
                return self._to_login()
            try:
                accounts.send_confirmation(session, viewer.user)
            except DomainError as exc:  # MailThrottled: too many mails this hour
                return rx.toast.error(exc.message)
        return rx.toast.success(f"We sent a new confirmation link to {self.user_email}.")

    @rx.var
    def active_workspace_name(self) -> str:
        for workspace in self.workspaces:
            if workspace.id == self.active_org_id:
                return workspace.name
        return "Personal Workspace"

    @rx.var
    def user_initials(self) -> str:
        parts = self.user_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"


def navigate(path: str) -> rx.event.EventSpec:
    """A full page load, so a new websocket carries the new cookie (client redirects keep the old)."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")
