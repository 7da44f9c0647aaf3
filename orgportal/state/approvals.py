"""The Approval queue (/approvals): Owners and Admins approve or reject the links that wait
under `require_approval_for_links` (SPEC §14). The queue and the nav's badge are live."""

import asyncio
import dataclasses
import logging

import reflex as rx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from orgportal import formatting, routes
from orgportal.db import unit_of_work
from orgportal.services import custom_domains, link_approval
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.state import approval_badge, live
from orgportal.state.base import AppState
from orgportal.state.paging import Paged

log = logging.getLogger(__name__)
PAGE_SIZE = 25
NO_QUEUE = "Only an organization's Owner and Admins see its approval queue."


@dataclasses.dataclass
class PendingRow:
    id: int
    slug: str
    short_url: str
    target_url: str
    creator: str
    created: str


async def push_approvals(app: rx.App, topic: str, organization_id: int) -> None:
    """The organization's queue changed: every Owner/Admin tab of this worker gets the new
    badge count, and an open Approval page its new rows."""
    tokens = approval_badge.watching(organization_id)
    if not tokens:
        return
    count = await asyncio.to_thread(_count, organization_id)
    await asyncio.gather(*(_push(app, token, organization_id, count) for token in tokens))


@live.follows(approval_badge.PAGE, approval_badge.TOPIC, refresh=push_approvals)
class ApprovalsState(Paged, AppState):
    rows: list[PendingRow] = []
    error: str = ""
    setting_on: bool = False

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.approve_links:
            self.rows, self.total, self.error = [], 0, NO_QUEUE
            return
        try:
            found, self.total = link_approval.list_pending(
                session,
                user=viewer.user,
                organization_id=org_id,
                limit=PAGE_SIZE,
                offset=self.page * PAGE_SIZE,
            )
            if not found and self.page > 0:
                self.page = 0
                found, self.total = link_approval.list_pending(
                    session, user=viewer.user, organization_id=org_id, limit=PAGE_SIZE
                )
        except DomainError as exc:
            self.rows, self.total, self.error = [], 0, exc.message
            return
        self.error = ""
        self.setting_on = link_approval.setting_on(session, org_id)
        urls = custom_domains.short_urls(session, [link for link, _ in found])
        self.rows = [
            PendingRow(
                id=link.id or 0,
                slug=link.slug,
                short_url=urls[link.id],
                target_url=link.target_url,
                creator=email,
                created=formatting.date_time(link.created_at),
            )
            for link, email in found
        ]

    @rx.event
    def approve(self, link_id: int):
        return self._act(link_approval.approve_link, done="Link approved.", link_id=link_id).events

    @rx.event
    def reject(self, link_id: int):
        return self._act(
            link_approval.reject_link,
            done="Link rejected and deleted; its creator was told by email.",
            link_id=link_id,
        ).events


def _count(organization_id: int) -> int:
    with unit_of_work() as session:
        return link_approval.pending_count(session, organization_id)


async def _push(app: rx.App, token: str, organization_id: int, count: int) -> None:
    try:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=ApprovalsState)) as root:
            state = await root.get_state(AppState)
            if state.active_org_id != organization_id or not state.caps.approve_links:
                approval_badge.unwatch(token, organization_id)
                return
            path = (state.router.url.path or "").rstrip("/")
            if path == routes.APPROVALS:  # authenticates again, reloads rows and badge
                queue = await root.get_state(ApprovalsState)
                await run_in_threadpool(queue._refresh)
            else:
                state.pending_approvals = count
    except Exception:
        log.exception("live approval refresh failed for one client")
