"""Live usage bars: links, storage and members of the active organization (SPEC §6).

Every page that shows the bars registers its client token under the organization on load.
When the live bus announces a change, the worker reads the usage once and pushes it into
each registered page's state with `app.modify_state` (REFLEX_NOTES §6: per-token pushes
scale linearly; SharedState joins do not). Tokens whose socket is gone, or whose user is
no longer a member, are dropped, so nothing leaks to former members.
"""

import asyncio
import logging
from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from orgportal.db import unit_of_work
from orgportal.models import User
from orgportal.services import billing, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import NotFound
from orgportal.services.usage import OrganizationUsage, Usage
from orgportal.state.base import AppState

log = logging.getLogger(__name__)
UNLIMITED = -1

# organization id → {client token: user id}, for the pages connected to this worker
WATCHERS: dict[int, dict[str, int]] = {}
# Personal Workspace pages: user id → {client token: the organization whose pool the user
# draws on when the page loaded (0: their own pool)}. A change to that organization's pool
# refreshes them too.
PERSONAL_WATCHERS: dict[int, dict[str, int]] = {}


@dataclass(frozen=True)
class PersonalUsage:
    source: str
    own_pool: bool
    pool_organization_id: int
    used: Usage
    links_limit: int
    storage_limit: int


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
    domains_used: int = 0  # custom domains (issue 17)
    domains_limit: int = UNLIMITED

    @rx.var
    def links_label(self) -> str:
        return f"{self.links_used:,} / {_limit(self.links_limit, lambda n: f'{n:,}')}"

    @rx.var
    def storage_label(self) -> str:
        used = usage.human_bytes(self.storage_used)
        return f"{used} / {_limit(self.storage_limit, usage.human_bytes)}"

    @rx.var
    def members_label(self) -> str:
        return f"{self.members_used} / {_limit(self.members_limit, str)}"

    @rx.var
    def domains_label(self) -> str:
        return f"{self.domains_used} / {_limit(self.domains_limit, str)}"

    @rx.var
    def domains_percent(self) -> int:
        return usage.percent(self.domains_used, _or_none(self.domains_limit))

    @rx.var
    def links_percent(self) -> int:
        return usage.percent(self.links_used, _or_none(self.links_limit))

    @rx.var
    def storage_percent(self) -> int:
        return usage.percent(self.storage_used, _or_none(self.storage_limit))

    @rx.var
    def members_percent(self) -> int:
        return usage.percent(self.members_used, _or_none(self.members_limit))

    @rx.var
    def limit_notice(self) -> str:
        if not self.usage_can_upgrade:
            return ""
        return usage.limit_notice(self.links_percent, self.storage_percent)

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The bars of the active organization; registers this page for live pushes."""
        org_id = viewer.session.active_org_id
        self.usage_org_id, self.usage_personal, self.usage_source = 0, False, ""
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
        self.show(view)
        WATCHERS.setdefault(org_id, {})[self.router.session.client_token] = viewer.user.id

    def _load_personal(self, session: Session, viewer: Viewer) -> None:
        """The Personal Workspace's pool; registers this page for live pushes."""
        view = _personal_usage(session, viewer.user)
        self.show_personal(view)
        self._personal_user_id = viewer.user.id
        PERSONAL_WATCHERS.setdefault(viewer.user.id, {})[self.router.session.client_token] = (
            view.pool_organization_id
        )

    def show_personal(self, view: PersonalUsage) -> None:
        self.usage_personal, self.usage_can_upgrade = True, view.own_pool
        self.usage_source = view.source
        self.links_used, self.storage_used = view.used.links, view.used.storage_bytes
        self.links_limit, self.storage_limit = view.links_limit, view.storage_limit
        self.members_used, self.members_limit = 0, UNLIMITED

    def show(self, view: OrganizationUsage) -> None:
        plan = view.plan
        self.links_used, self.storage_used = view.usage.links, view.usage.storage_bytes
        self.links_limit = plan.links if plan.links is not None else UNLIMITED
        self.storage_limit = plan.storage_bytes if plan.storage_bytes is not None else UNLIMITED
        self.members_used = view.members
        self.members_limit = view.seat_limit if view.seat_limit is not None else UNLIMITED
        self.domains_used = view.custom_domains
        self.domains_limit = plan.domains if plan.domains is not None else UNLIMITED


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


def _or_none(limit: int) -> int | None:
    return None if limit == UNLIMITED else limit


def _limit(value: int, fmt) -> str:
    return "unlimited" if value == UNLIMITED else fmt(value)


async def push_usage(app: rx.App, organization_id: int) -> int:
    """Push one organization's usage to its watchers; returns how many pages were updated.
    Personal Workspace pages drawing on this organization's pool are refreshed too."""
    drawing = [
        user_id
        for user_id, pages in list(PERSONAL_WATCHERS.items())
        if organization_id in pages.values()
    ]
    personal = sum([await push_personal_usage(app, user_id) for user_id in drawing])
    return personal + await _push_organization(app, organization_id)


async def _push_organization(app: rx.App, organization_id: int) -> int:
    watchers = _connected(app, WATCHERS.get(organization_id))
    if not watchers:
        return 0
    view, members = await asyncio.to_thread(_read, organization_id)
    if view is None:
        WATCHERS.pop(organization_id, None)
        return 0

    async def one(token: str, user_id: int) -> bool:
        if user_id not in members:
            watchers.pop(token, None)
            return False
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=UsageState)) as root:
            state = await root.get_state(UsageState)
            if state.usage_org_id != organization_id:
                watchers.pop(token, None)
                return False
            state.show(view)
        return True

    results = await asyncio.gather(
        *(one(token, user_id) for token, user_id in list(watchers.items())),
        return_exceptions=True,
    )
    return sum(1 for result in results if result is True)


def _connected(app: rx.App, watchers: dict[str, int] | None) -> dict[str, int] | None:
    """The watchers, less the pages whose socket is gone (dropped for good)."""
    if not watchers:
        return watchers
    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in watchers if t not in connected]:
        watchers.pop(token, None)
    return watchers


def _read(organization_id: int) -> tuple[OrganizationUsage | None, set[int]]:
    with unit_of_work() as session:
        return usage.usage_for_watchers(session, organization_id)


async def push_personal_usage(app: rx.App, user_id: int) -> int:
    """Push a user's Personal Workspace bars to their open pages (each tab re-checks that it
    still shows that user's Personal Workspace)."""
    watchers = _connected(app, PERSONAL_WATCHERS.get(user_id))
    if not watchers:
        return 0
    view = await asyncio.to_thread(_read_personal, user_id)
    if view is None or not watchers:
        PERSONAL_WATCHERS.pop(user_id, None)
        return 0

    async def one(token: str) -> bool:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=UsageState)) as root:
            state = await root.get_state(UsageState)
            if not state.usage_personal or state._personal_user_id != user_id:
                watchers.pop(token, None)
                return False
            state.show_personal(view)
            watchers[token] = view.pool_organization_id
        return True

    results = await asyncio.gather(*(one(t) for t in list(watchers)), return_exceptions=True)
    return sum(1 for result in results if result is True)


def _read_personal(user_id: int) -> PersonalUsage | None:
    with unit_of_work() as session:
        user = session.get(User, user_id)
        return _personal_usage(session, user) if user is not None else None

