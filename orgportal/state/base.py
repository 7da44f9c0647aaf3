"""The root of orgportal's states: who is signed in, and their workspaces.

Nothing here trusts the browser: every handler re-reads the session from the HttpOnly
cookie of the websocket handshake and re-checks it against the database.
"""

import dataclasses
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import ClassVar, TypeVar

import reflex as rx
from reflex.event import EventHandler
from reflex.state import _override_base_method
from sqlmodel import Session

from orgportal import routes
from orgportal.adapters import logs
from orgportal.config import settings as app_settings
from orgportal.db import unit_of_work
from orgportal.services import accounts, org_security, permissions
from orgportal.services import client_address as client_context
from orgportal.services.accounts import Viewer
from orgportal.services.client_address import client_address
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.services.permissions import Capabilities
from orgportal.state import approval_badge
from orgportal.state.event_threads import event_handler, in_thread
from orgportal.state.outcome import Form, Outcome
from orgportal.state.stored import StoredWhenUsed

T = TypeVar("T")


@dataclasses.dataclass
class WorkspaceItem:
    id: int  # 0 is the Personal Workspace
    name: str
    role: str


class AppState(StoredWhenUsed, rx.State):
    # A tab stores only the states it has used (`state/stored.py`).
    # Whether this state's events are refused by the active organization's Security
    # settings (SPEC §13). States of the account itself (where two-factor sign-in is set
    # up) say False. A class property, never the page path an event claims to come from:
    # the client writes that, so a refused member could name /account to slip past.
    refused_by_organization: ClassVar[bool] = True
    # Whether a page of this state follows live changes for a signed-out visitor (a
    # ticket's reply page); else a tab found signed out stops following (`state/live.py`).
    live_signed_out: ClassVar[bool] = False
    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    email_confirmed: bool = True
    workspaces: list[WorkspaceItem] = []
    active_org_id: int = 0
    # What the viewer may do in the active workspace, as the services decide it.
    caps: Capabilities = Capabilities()
    page_ready: bool = False  # the first page load of this tab has filled the state
    pending_approvals: int = 0  # the nav's Approval badge (Owner/Admin; live, SPEC §14)
    workspace_key: int = 0  # the page's content key: moves on when a switch fills it in place
    # A page an action has just filled for this tab, and when (`_filled_ahead`): its load
    # event, which the client-side route change sends next, then reads nothing again.
    _filled_path: str = ""
    _filled_at: float = 0.0

    @classmethod
    @_override_base_method
    def _create_event_handler(cls, fn, event_handler_cls=EventHandler):
        """Every plain handler of orgportal's states runs, as an event, in a thread of the
        event pool, off the worker's event loop (`state/event_threads.py`)."""
        return event_handler(super()._create_event_handler, fn, event_handler_cls)

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

    def _viewer(self, session: Session, *, show: bool = True) -> Viewer:
        """The signed-in user, or NotAuthenticated; refreshes the profile menu data (unless
        `show` is off: the caller shows it after a use case that changes it)."""
        viewer = accounts.authenticate(session, self._session_token())
        logs.bind_viewer(viewer)  # the log lines of this event name its user and organization
        # the address the services hold organizations' Security settings at (SPEC §13)
        client_context.set_current(self._client_address())
        if show:
            self._show_viewer(session, viewer)
        return viewer

    def _show_viewer(self, session: Session, viewer: Viewer) -> None:
        """The top bar's and profile menu's data, and the viewer's capabilities."""
        self.signed_in = True
        self.user_name = viewer.user.display_name
        self.user_email = viewer.user.email
        self.email_confirmed = viewer.user.email_confirmed_at is not None
        self.active_org_id = viewer.session.active_org_id or 0
        self.workspaces = [
            WorkspaceItem(id=w.organization_id or 0, name=w.name, role=w.role)
            for w in accounts.list_workspaces(session, viewer.user)
        ]
        self.caps = permissions.capabilities(session, viewer.user, viewer.session.active_org_id)
        self.pending_approvals = approval_badge.count_and_watch(
            session,
            organization_id=viewer.session.active_org_id,
            may_approve=self.caps.approve_links,
            token=self.router.session.client_token,
            user_id=viewer.user.id,
        )

    def _to_login(self):
        self.signed_in = False
        return rx.redirect(routes.login(self.router.url.path or routes.ORGANIZATION))

    # --- the state core: every handler and page load goes through these two -----------------

    def _load(self, session: Session, viewer: Viewer) -> None:
        """Fill this state's view data for `viewer` (a feature state overrides it). Called by
        the page load and, after each use case, in the same transaction."""

    def _opened(self) -> None:
        """The page is being opened (its load event), not refreshed: forget what the last
        visit asked for in this tab (a feature state overrides it; `_load` follows)."""

    def _refresh(self):
        """Reload this state's view as it is now (after a page, filter or sort change)."""
        return self._run(_view_only)

    def _attempt(
        self,
        action: Callable[[Session, Viewer], T],
        *,
        form: Form | None = None,
        done: str = "",
        reload: bool = True,
        guard: bool = True,
    ) -> Outcome[T]:
        """Run one use case from an event handler, the one way every handler does it.

        One transaction; the viewer authenticated once; then, unless `reload` is off, this
        state reloaded in the same transaction, so a form re-keyed in this event mounts
        with the values just saved, never the previous ones. A signed-out viewer goes to
        `/login?next=<this page>`. Refusals: ValidationFailed fills the `form`'s errors
        (field → message); any other DomainError goes there under the form's `general`
        field when it has one, else to an error toast. Once saved, the form's key moves on.
        """
        if form:
            setattr(self, form.errors, {})
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                if guard and self.refused_by_organization:
                    self._guard(session, viewer)
                value = action(session, viewer)
                # the action may have renamed a workspace or changed the viewer's own role
                self._show_viewer(session, viewer)
                if reload:
                    self._load(session, viewer)
        except NotAuthenticated as exc:
            return Outcome(refusal=exc, events=self._to_login())
        except org_security.AccessRefused as exc:
            return Outcome(refusal=exc, events=self._refused(exc))
        except ValidationFailed as exc:
            if form:
                setattr(self, form.errors, form.field_errors(exc.errors))
                return Outcome(refusal=exc)
            return Outcome(refusal=exc, events=rx.toast.error(exc.message))
        except DomainError as exc:
            if form and form.general:
                setattr(self, form.errors, {form.general: exc.message})
                return Outcome(refusal=exc)
            return Outcome(refusal=exc, events=rx.toast.error(exc.message))
        if form and form.key:
            setattr(self, form.key, getattr(self, form.key) + 1)
        return Outcome(value=value, events=rx.toast.success(done) if done else None)

    def _show_refusal(self, outcome: Outcome, form: Form) -> None:
        """A refusal beside the form's fields: a ValidationFailed's messages by field, any
        other under the form's `general` field (when it has one)."""
        setattr(self, form.errors, {})
        if isinstance(outcome.refusal, ValidationFailed):
            setattr(self, form.errors, form.field_errors(outcome.refusal.errors))
        elif outcome.refusal is not None and form.general:
            setattr(self, form.errors, {form.general: outcome.refusal.message})

    def _run(
        self,
        action: Callable[[Session, Viewer], object],
        *,
        form: Form | None = None,
        done: str = "",
        reload: bool = True,
        guard: bool = True,
    ):
        """`_attempt` for a handler that needs only its events."""
        return self._attempt(action, form=form, done=done, reload=reload, guard=guard).events

    def _act(
        self,
        service: Callable[..., T],
        /,
        *,
        form: Form | None = None,
        done: str = "",
        reload: bool = True,
        **arguments: object,
    ) -> Outcome[T]:
        """`_attempt` for the common case: `service(session, user=<viewer>,
        organization_id=<the active workspace>, **arguments)`; the service checks the
        permission. The handler returns `.events`."""
        return self._attempt(
            lambda session, viewer: service(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                **arguments,
            ),
            form=form,
            done=done,
            reload=reload,
        )

    @rx.event
    async def load_page(self, route: str):
        """The one load event of every signed-in page: authenticates once, then fills each
        state the page declared (`page_load`) inside one transaction. Nothing to do when
        the action that led here has just filled this page (`_filled_ahead`)."""
        if self._filled_path and self._take_filled_ahead():
            self.page_ready = True
            self._page_loaded()
            return None
        events = await self._fill_page(route)
        self._page_loaded()
        return events

    def _page_loaded(self) -> None:
        """The page's one load event has run: say so (Reflex's `is_hydrated`) in the delta
        that carries its data. Reflex would set it in an event queued after this one, a
        second delta the page renders separately: 40–120 ms later on a busy machine, and
        `data-loaded` (the click guard, prefetching, the page-load benchmark) waited for it.
        Only the page's own load event calls this (never `fill_ahead`, which runs while the
        previous page is still shown), and only on pages with that one load event."""
        self._get_root_state().is_hydrated = True

    def _filled_ahead(self, path: str) -> None:
        """The page at `path` has just been filled, in an authenticated transaction, for the
        route change to it that follows (the page shows its content as it
        appears, and its load event does not read it all again)."""
        self._filled_path, self._filled_at = _clean(path), time.time()

    def _take_filled_ahead(self) -> bool:
        """Whether this very address (without a query) was filled ahead a moment ago (used
        once)."""
        path, at = self._filled_path, self._filled_at
        self._filled_path = ""
        url = self.router.url
        here = _clean(url.path) == path and not url.query
        return here and time.time() - at < FILLED_AHEAD_FOR

    @rx.event
    async def fill_ahead(self, route: str):
        """Fills the page at `route` (a fixed address, no query) while the browser changes
        route to it, so the two overlap instead of following each other: chained by an
        action right after its `rx.redirect`, and sent by the navigation's links as they are
        clicked. Meanwhile the page's states read their address through `_page_path` and
        `_page_query`, which name `route`, not the page the click came from."""
        token = _FILLING_AHEAD.set(_clean(route))
        try:
            events = await self._fill_page(route)
        finally:
            _FILLING_AHEAD.reset(token)
        if events is None:
            self._filled_ahead(route)
        return events

    def _page_path(self) -> str:
        """The address of the page being filled (without a query or trailing slash)."""
        return _FILLING_AHEAD.get() or _clean(self.router.url.path)

    def _page_query(self) -> dict[str, str]:
        """The query of the page being filled: none for a page filled ahead."""
        return {} if _FILLING_AHEAD.get() else dict(self.router.url.query_parameters)

    async def _fill_page(
        self, route: str, action: Callable[[Session, Viewer], object] | None = None
    ):
        """`load_page`, after `action` (a use case that changes what the page shows, such as
        the active workspace) in the same transaction: one authentication, one round trip.
        When the page's Security settings then refuse the viewer, the action still stands
        (switching to a workspace that refuses you leads to its gate) and nothing is shown."""
        if not self._session_token():
            return self._to_login()  # signed out: no page state is fetched, nothing read
        # the page's states are fetched here, on the event loop (from the state manager);
        # the transaction that fills them runs in a worker thread, so that a page load's
        # queries never hold up the other requests and events this worker serves (this
        # event holds its tab's state lock meanwhile: nothing else touches these states)
        states = [await self.get_state(state_class) for state_class in PAGE_STATES.get(route, ())]

        def fill() -> org_security.AccessRefused | None:
            with unit_of_work() as session:
                viewer = self._viewer(session, show=action is None)
                if action is not None:
                    action(session, viewer)
                    self._show_viewer(session, viewer)
                try:
                    self._guard(session, viewer, route)
                except org_security.AccessRefused as exc:
                    if action is None:
                        raise
                    return exc  # committed with the action, the page left unfilled
                for state in states:
                    state._opened()
                    state._load(session, viewer)
            return None

        try:
            refused = await in_thread(fill)  # (the context, so the client's address, too)
            if refused is not None:
                return self._refused(refused)
            self.page_ready = True
        except NotAuthenticated:
            return self._to_login()
        except org_security.AccessRefused as exc:
            return self._refused(exc)
        except DomainError as exc:
            return rx.toast.error(exc.message)

    def _refused(self, exc: org_security.AccessRefused):
        """The active organization refusing sends to its gate (set up two-factor sign-in,
        address blocked); another organization refusing (its file, its link's figures) is
        said where it happened."""
        if exc.organization_id == (self.active_org_id or None):
            return rx.redirect(routes.security_gate(exc.reason))
        return rx.toast.error(exc.message)

    def _guard(self, session: Session, viewer: Viewer, route: str = "") -> None:
        """The active organization's Security settings (SPEC §13): AccessRefused for a member
        without two-factor sign-in where it is required, or a client outside its IP allowlist.
        Page loads of the account's own pages (`route`) are exempt: a load only fills the
        states that page declared (`page_load`), whatever route the client names."""
        if route and routes.unguarded(route):
            return
        org_security.check_access(
            session,
            user=viewer.user,
            organization_id=viewer.session.active_org_id,
            address=self._client_address(),
        )

    @rx.event
    async def switch_workspace(self, organization_id: int, to: str = ""):
        """Profile menu → Switch Organization; remembered on the server-side session (the
        cookie stays the same, so no page load is needed). Then the same kind of
        page in the new workspace (`workspace_destination`), or `to`: when that is this very
        page, it is filled for the new workspace in this event; else a client-side route
        change goes there and its load event fills it."""

        def switch(session: Session, viewer: Viewer) -> None:
            accounts.switch_workspace(session, viewer, organization_id or None)

        destination = to or workspace_destination(self.router.url.path, organization_id)
        route = self.router.route_id
        url = self.router.url
        if _clean(destination) == _clean(url.path) and not url.query and route in PAGE_STATES:
            # the switch itself is never refused; the page then meets the new workspace's
            # Security settings, as its load would. Its content mounts anew (`page_frame`).
            self.workspace_key += 1
            return await self._fill_page(route, switch)
        outcome = self._attempt(switch, reload=False, guard=False)  # leaving is always allowed
        if not outcome.ok:
            return outcome.events
        # the spinner until the new page has loaded: this page must not show the new
        # workspace half-filled (a form typed into now would be lost in the page change)
        self.page_ready = False
        return rx.redirect(destination)

    @rx.event
    def sign_out(self):
        self.signed_in = False
        return rx.call_script(
            "fetch('/api/auth/logout', {method: 'POST', credentials: 'same-origin'})"
            ".finally(() => window.location.assign('/login'))"
        )

    @rx.event
    def resend_confirmation(self):
        """The banner's Resend link (throttled per address and user by the service)."""
        return self._run(
            lambda session, viewer: accounts.send_confirmation(session, viewer.user),
            done=f"We sent a new confirmation link to {self.user_email}.",
            reload=False,
        )

    @rx.var
    def active_workspace_name(self) -> str:
        for workspace in self.workspaces:
            if workspace.id == self.active_org_id:
                return workspace.name
        return "Personal Workspace"

    @rx.var
    def current_section(self) -> str:
        """The top bar's entry for this page (its path), "" when none: the nav marks it."""
        return nav_section(self.router.url.path)

    @rx.var
    def user_initials(self) -> str:
        parts = self.user_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"


# How long a page filled ahead (`AppState._filled_ahead`) waits for its route change.
FILLED_AHEAD_FOR = 10.0
# The page `AppState.fill_ahead` is filling, while it does (read by `_page_path`).
_FILLING_AHEAD: ContextVar[str] = ContextVar("filling_ahead", default="")
# route → the states whose `_load` fills that page (declared with `page_load`)
PAGE_STATES: dict[str, tuple[type[AppState], ...]] = {}


def page_load(route: str, *states: type[AppState]) -> rx.event.EventSpec:
    """Declare what a signed-in page shows: its one load event authenticates once and
    fills each of `states` (their `_load`) in one transaction. Use as `on_load=`."""
    PAGE_STATES[route] = states
    return AppState.load_page(route)


def navigate(path: str) -> rx.event.EventSpec:
    """A full page load: only for a page outside the app (a payment page). Everything else
    changes page client-side (`rx.redirect`): the active workspace lives in the server-side
    session, so only a sign-in changes the cookie, and it reconnects instead
    (`session_cookie.open_session`)."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


# Pages that show the active workspace's own things: switching workspace stays on them.
WORKSPACE_PAGES = (routes.LINKS, routes.FILES, routes.TICKETS, routes.PROJECTS, routes.APPROVALS)
# The top bar's sections; a sub-page belongs to the section whose path starts it.
NAV_SECTIONS = (routes.ORGANIZATION, routes.LINKS, routes.FILES, routes.TICKETS, routes.ACCOUNT)
NAV_SECTIONS += (routes.PROJECTS, routes.APPROVALS)
NAV_SECTIONS += (routes.ANALYTICS,)
WORKSPACE_PAGES += (routes.ANALYTICS,)


def _clean(path: str) -> str:
    return "/" + path.split("?", 1)[0].strip("/")


def nav_section(path: str) -> str:
    path = _clean(path or "")
    for section in NAV_SECTIONS:
        if path == section or path.startswith(section + "/"):
            return section
    return ""


def workspace_destination(path: str, organization_id: int) -> str:
    """Where switching to `organization_id` (0: the Personal Workspace) leads from `path`:
    the same kind of page (Links stays Links, an organization sub-page stays that sub-page),
    else the Organization page; the Personal Workspace has no organization sub-pages."""
    path = _clean(path or "")
    if path == routes.ORG_NEW:  # the create form belongs to no workspace
        return routes.ORGANIZATION
    for page in WORKSPACE_PAGES:
        if path == page or path.startswith(page + "/"):  # one ticket: that workspace's list
            return page
    if path.startswith(routes.ORGANIZATION + "/") and organization_id:
        return path
    return routes.ORGANIZATION


def _view_only(_session: Session, _viewer: Viewer) -> None:
    """The action of a plain reload: nothing to change, only the view to read again."""


def run_signed_out(
    action: Callable[[Session], T], *, around: AbstractContextManager | None = None
) -> Outcome[T]:
    """The signed-out pages' core (sign-in, registration, password reset, invitations): the
    use case in one transaction, with no viewer; a refusal comes back in the Outcome, for
    the page to show (`AppState._show_refusal`, or its own message). `around` wraps the
    transaction (the sign-in limiter, which counts the failures it sees). Plain and
    state-free, so a handler can run it in a worker thread (password hashing)."""
    try:
        with around or nullcontext(), unit_of_work() as session:
            return Outcome(value=action(session))
    except DomainError as exc:
        return Outcome(refusal=exc)
