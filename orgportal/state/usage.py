"""Live usage bars: links, storage and members of the active organization (SPEC §6).

Every page that shows the bars registers its client token under the organization on load.
When the live bus announces a change, the worker reads the usage once and pushes it into
each registered page's state with `app.modify_state` (REFLEX_NOTES §6: per-token pushes
scale linearly; SharedState joins do not). Tokens whose socket is gone, or whose user is
no longer a member, are dropped, so nothing leaks to former members.
"""

import asyncio
import logging

import reflex as rx
from sqlmodel import Session

from orgportal.db import unit_of_work
from orgportal.services import billing, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import NotFound
from orgportal.services.usage import OrganizationUsage, Usage
from orgportal.state.base import AppState

log = logging.getLogger(__name__)
UNLIMITED = -1

# organization id → {client token: user id}, for the pages connected to this worker
WATCHERS: dict[int, dict[str, int]] = {}


class UsageState(AppState):
    usage_org_id: int = 0
    usage_personal: bool = False  # the Personal Workspace's pool (links and storage only)
    usage_source: str = ""  # which plan is in effect there, and why
    usage_can_upgrade: bool = False
    links_used: int = 0
    links_limit: int = UNLIMITED
    storage_used: int = 0
    storage_limit: int = UNLIMITED
    members_used: int = 0
    members_limit: int = UNLIMITED

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
        """The Personal Workspace's pool: the user's own plan, or the organization plan they
        draw on (then its pool, which their personal items count against)."""
        pool = usage.pool_for(session, user=viewer.user, organization_id=None)
        used: Usage = usage.pool_usage(session, pool)
        self.usage_personal, self.usage_can_upgrade = True, pool.organization_id is None
        self.usage_source = billing.effective_plan_source(session, user=viewer.user)
        plan = pool.plan
        self.links_used, self.storage_used = used.links, used.storage_bytes
        self.links_limit = plan.links if plan.links is not None else UNLIMITED
        self.storage_limit = plan.storage_bytes if plan.storage_bytes is not None else UNLIMITED
        self.members_used, self.members_limit = 0, UNLIMITED

    def show(self, view: OrganizationUsage) -> None:
        plan = view.plan
        self.links_used, self.storage_used = view.usage.links, view.usage.storage_bytes
        self.links_limit = plan.links if plan.links is not None else UNLIMITED
        self.storage_limit = plan.storage_bytes if plan.storage_bytes is not None else UNLIMITED
        self.members_used = view.members
        self.members_limit = view.seat_limit if view.seat_limit is not None else UNLIMITED


def _or_none(limit: int) -> int | None:
    return None if limit == UNLIMITED else limit


def _limit(value: int, fmt) -> str:
    return "unlimited" if value == UNLIMITED else fmt(value)


async def push_usage(app: rx.App, organization_id: int) -> int:
    """Push one organization's usage to its watchers; returns how many pages were updated."""
    watchers = WATCHERS.get(organization_id)
    if not watchers:
        return 0
    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in watchers if t not in connected]:
        watchers.pop(token, None)
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


def _read(organization_id: int) -> tuple[OrganizationUsage | None, set[int]]:
    with unit_of_work() as session:
        return usage.usage_for_watchers(session, organization_id)
