"""Live usage bars: links, storage and members of the active organization (SPEC §6).

Every page that shows the bars registers its tab on load (page "usage" in `state/live.py`:
topic "usage" by organization, or "personal_usage" by user for the Personal Workspace).
When the live bus announces a change, the worker reads the usage once and sends the bars to
all that organization's pages as one Socket.IO emit of a ready-made delta (`usage_bars.
frame`, sent by `frames.send`), the frame Reflex itself would send after `modify_state`,
without a state round trip per page (faster than a bare app's per-token
`modify_state`). Tabs whose socket is gone, whose user is no longer a member, or whose page
now shows another workspace, are dropped first, so nothing leaks to former members.

The pushed values skip the server-side copy of the page's state: every load (each page
that shows the bars, every reconnect) reads them afresh, and nothing else reads them. A
page loaded in the last `SETTLE` seconds still gets the state round trip, which waits for
its load to finish, so that a load that read just before a change cannot overwrite the
newer push with its own older frame.
"""

import asyncio
import logging
import time
from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from orgportal.db import unit_of_work
from orgportal.models import User
from orgportal.services import billing, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import NotFound
from orgportal.services.usage import OrganizationUsage, Usage
from orgportal.state import frames, live, usage_bars
from orgportal.state.base import AppState
from orgportal.state.usage_bars import UNLIMITED

log = logging.getLogger(__name__)
SETTLE = 2.0  # seconds after a load during which a push goes through the page's state
PAGE, TOPIC, PERSONAL_TOPIC = "usage", "usage", "personal_usage"


@dataclass(frozen=True)
class Watch:
    """One open page showing an organization's bars (this worker's socket)."""

    user_id: int
    can_upgrade: bool  # sees the upgrade notice (Owner, Billing Admin) as of its load
    loaded_at: float  # time.monotonic() of the load


# Registered in `state/live.py`: ("usage", organization id) → {client token: Watch};
# ("personal_usage", user id) → {client token: the organization whose pool the user draws on
# when the page loaded (0: their own pool)}; a change to that organization's pool refreshes
# those Personal Workspace pages too. A tab shows one workspace at a time.


@dataclass(frozen=True)
class PersonalUsage:
    source: str
    own_pool: bool
    pool_organization_id: int
    used: Usage
    links_limit: int
    storage_limit: int


async def refresh_live(app: rx.App, topic: str, key: int) -> int:
    """The bars' live refresh (`live.follows`): returns how many pages were updated."""
    if topic == PERSONAL_TOPIC:
        return await push_personal_usage(app, key)
    return await push_usage(app, key)


@live.follows(PAGE, TOPIC, PERSONAL_TOPIC, refresh=refresh_live)
class UsageState(AppState):
    usage_org_id: int = 0
    usage_personal: bool = False  # the Personal Workspace's pool (links and storage only)
    usage_source: str = ""  # which plan is in effect there, and why
    _personal_user_id: int = 0  # whose Personal Workspace this tab shows (live pushes)
    usage_can_upgrade: bool = False
    links_used: int = 0
    links_limit: int = UNLIMITED
    storage_used: int = 0
    storage_limit: int = UNLIMITED
    members_used: int = 0
    members_limit: int = UNLIMITED
    domains_used: int = 0  # custom domains (SPEC §15)
    domains_limit: int = UNLIMITED

    @rx.var
    def links_label(self) -> str:
        return usage_bars.count_label(self.links_used, self.links_limit)

    @rx.var
    def storage_label(self) -> str:
        return usage_bars.storage_label(self.storage_used, self.storage_limit)

    @rx.var
    def members_label(self) -> str:
        return usage_bars.plain_label(self.members_used, self.members_limit)

    @rx.var
    def domains_label(self) -> str:
        return usage_bars.plain_label(self.domains_used, self.domains_limit)

    @rx.var
    def domains_percent(self) -> int:
        return usage_bars.percent(self.domains_used, self.domains_limit)

    @rx.var
    def links_percent(self) -> int:
        return usage_bars.percent(self.links_used, self.links_limit)

    @rx.var
    def storage_percent(self) -> int:
        return usage_bars.percent(self.storage_used, self.storage_limit)

    @rx.var
    def members_percent(self) -> int:
        return usage_bars.percent(self.members_used, self.members_limit)

    @rx.var
    def limit_notice(self) -> str:
        return usage_bars.limit_notice(
            self.usage_can_upgrade, self.links_percent, self.storage_percent
        )

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The bars of the active organization; registers this page for live pushes."""
        org_id = viewer.session.active_org_id
        token = self.router.session.client_token
        self.usage_org_id, self.usage_personal, self.usage_source = 0, False, ""
        live.unwatch(PAGE, token)
        if not org_id:
            self._load_personal(session, viewer)
            return
        try:
            view = usage.organization_usage(session, user=viewer.user, organization_id=org_id)
        except NotFound:  # no longer a member: nothing to show
            return
        self.usage_org_id = org_id
        # the notice asks to upgrade the plan: shown to those who may (Owner, Billing Admin)
        self.usage_can_upgrade = self.caps.manage_billing
        self._show(view)
        page = Watch(viewer.user.id, self.usage_can_upgrade, time.monotonic())
        live.watch(self, org_id, topic=TOPIC, data=page)

    def _load_personal(self, session: Session, viewer: Viewer) -> None:
        """The Personal Workspace's pool; registers this page for live pushes."""
        view = _personal_usage(session, viewer.user)
        self._show_personal(view)
        self._personal_user_id = viewer.user.id
        live.watch(self, viewer.user.id, topic=PERSONAL_TOPIC, data=view.pool_organization_id)

    def _show_personal(self, view: PersonalUsage) -> None:
        self.usage_personal, self.usage_can_upgrade = True, view.own_pool
        self.usage_source = view.source
        self.links_used, self.storage_used = view.used.links, view.used.storage_bytes
        self.links_limit, self.storage_limit = view.links_limit, view.storage_limit
        self.members_used, self.members_limit = 0, UNLIMITED

    def _show(self, view: OrganizationUsage) -> None:
        for name, value in usage_bars.organization_values(view).items():
            setattr(self, name, value)


def _personal_usage(session: Session, user: User) -> PersonalUsage:
    """The Personal Workspace's pool: the user's own plan, or the organization plan they
    draw on (then its pool, which their personal items count against)."""
    pool = usage.pool_for(session, user=user, organization_id=None)
    plan = pool.plan
    return PersonalUsage(
        source=billing.effective_plan_source(session, user=user),
        own_pool=pool.organization_id is None,
        pool_organization_id=pool.organization_id or 0,
        used=usage.pool_usage(session, pool),
        links_limit=plan.links if plan.links is not None else UNLIMITED,
        storage_limit=plan.storage_bytes if plan.storage_bytes is not None else UNLIMITED,
    )


async def push_usage(app: rx.App, organization_id: int) -> int:
    """Push one organization's usage to its watchers; returns how many pages were updated.
    Personal Workspace pages drawing on this organization's pool are refreshed too."""
    drawing = live.keys(PERSONAL_TOPIC, lambda pool: pool == organization_id)
    personal = sum([await push_personal_usage(app, user_id) for user_id in drawing])
    return personal + await _push_organization(app, organization_id)


async def _push_organization(app: rx.App, organization_id: int) -> int:
    watchers = live.watchers(TOPIC, organization_id)
    if not watchers:
        return 0
    view, members = await asyncio.to_thread(_read, organization_id)
    if view is None:
        for token in watchers:
            live.unwatch(PAGE, token, TOPIC, organization_id)
        return 0
    values = usage_bars.organization_values(view)
    direct, settling = _recipients(app, organization_id, watchers, members)
    state_name = UsageState.get_full_name()
    sent = 0
    for can_upgrade in (False, True):
        sids = [sid for sid, page in direct if page.can_upgrade == can_upgrade]
        if sids:  # one encoded packet, queued on each socket
            sent += await frames.send(app, sids, usage_bars.frame(state_name, values, can_upgrade))
    if settling:
        results = await asyncio.gather(
            *(_through_state(app, token, organization_id, view) for token in settling),
            return_exceptions=True,
        )
        sent += sum(1 for result in results if result is True)
    return sent


def _recipients(
    app: rx.App, organization_id: int, watchers: dict[str, Watch], members: set[int]
) -> tuple[list[tuple[str, Watch]], list[str]]:
    """Who gets this organization's bars: (socket id, page) of the pages to send the frame
    to, and the tokens of pages loaded too recently for that. Pages of users who are no
    longer members, and pages whose socket is gone from this worker, are dropped for good."""
    sids = frames.sockets(app, watchers)
    settled_before = time.monotonic() - SETTLE
    direct, settling = [], []
    for token, page in watchers.items():
        sid = sids[token]
        if page.user_id not in members or sid is None:
            live.unwatch(PAGE, token, TOPIC, organization_id)
        elif page.loaded_at > settled_before:
            settling.append(token)
        else:
            direct.append((sid, page))
    return direct, settling


async def _through_state(
    app: rx.App, token: str, organization_id: int, view: OrganizationUsage
) -> bool:
    """The state round trip: waits for the page's running load, then sets the bars."""
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=UsageState)) as root:
        state = await root.get_state(UsageState)
        if state.usage_org_id != organization_id:
            live.unwatch(PAGE, token, TOPIC, organization_id)
            return False
        state._show(view)
    return True


def _read(organization_id: int) -> tuple[OrganizationUsage | None, set[int]]:
    with unit_of_work() as session:
        return usage.usage_for_watchers(session, organization_id)


async def push_personal_usage(app: rx.App, user_id: int) -> int:
    """Push a user's Personal Workspace bars to their open pages (each tab re-checks that it
    still shows that user's Personal Workspace)."""
    watchers = live.watchers(PERSONAL_TOPIC, user_id)
    connected = frames.connected(app, watchers)
    for token in [t for t in watchers if t not in connected]:  # socket gone: dropped for good
        live.unwatch(PAGE, token, PERSONAL_TOPIC, user_id)
    if not connected:
        return 0
    view = await asyncio.to_thread(_read_personal, user_id)
    if view is None:
        for token in connected:
            live.unwatch(PAGE, token, PERSONAL_TOPIC, user_id)
        return 0

    async def one(token: str) -> bool:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=UsageState)) as root:
            state = await root.get_state(UsageState)
            if not state.usage_personal or state._personal_user_id != user_id:
                live.unwatch(PAGE, token, PERSONAL_TOPIC, user_id)
                return False
            state._show_personal(view)
            live.update(PAGE, token, PERSONAL_TOPIC, user_id, view.pool_organization_id)
        return True

    results = await asyncio.gather(*(one(t) for t in connected), return_exceptions=True)
    return sum(1 for result in results if result is True)


def _read_personal(user_id: int) -> PersonalUsage | None:
    with unit_of_work() as session:
        user = session.get(User, user_id)
        return _personal_usage(session, user) if user is not None else None
