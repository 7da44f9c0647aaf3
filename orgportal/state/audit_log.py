"""The Audit Log page (Owner and Admins)."""

import dataclasses

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.services import audit
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.state.base import AppState

PAGE_SIZE = 50


@dataclasses.dataclass
class AuditRow:
    when: str
    actor: str
    action: str
    summary: str


class AuditLogState(AppState):
    rows: list[AuditRow] = []
    error: str = ""
    page: int = 0
    has_more: bool = False
    _org_id: int = 0  # whose log `page` counts in

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id:  # the Personal Workspace has no audit log
            self.rows, self.has_more, self.error = [], False, ""
            return
        if org_id != self._org_id:  # another organization: its newest events first
            self._org_id, self.page = org_id, 0
        try:
            events = audit.list_events(
                session,
                user=viewer.user,
                organization_id=org_id,
                limit=PAGE_SIZE + 1,
                offset=self.page * PAGE_SIZE,
            )
        except DomainError as exc:  # only the Owner and Admins may read it
            self.rows, self.has_more, self.error = [], False, exc.message
            return
        self.error = ""
        self.has_more = len(events) > PAGE_SIZE
        self.rows = [
            AuditRow(
                formatting.date_time(e.created_at),
                e.actor_email or "system",
                audit.describe(e.action),
                e.summary,
            )
            for e in events[:PAGE_SIZE]
        ]

    @rx.event
    def next_page(self):
        self.page += 1
        return self._refresh()

    @rx.event
    def previous_page(self):
        self.page = max(0, self.page - 1)
        return self._refresh()
