"""The Audit Log page (Owner and Admins)."""

import dataclasses

import reflex as rx

from orgportal.db import unit_of_work
from orgportal.services import audit
from orgportal.services.errors import DomainError, NotAuthenticated
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

    @rx.event
    def load(self):
        self.error = ""
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                events = audit.list_events(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id or 0,
                    limit=PAGE_SIZE + 1,
                    offset=self.page * PAGE_SIZE,
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.rows, self.error = [], exc.message
            return
        self.has_more = len(events) > PAGE_SIZE
        self.rows = [
            AuditRow(
                e.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                e.actor_email or "system",
                e.action,
                e.summary,
            )
            for e in events[:PAGE_SIZE]
        ]

    @rx.event
    def next_page(self):
        self.page += 1
        return AuditLogState.load

    @rx.event
    def previous_page(self):
        self.page = max(0, self.page - 1)
        return AuditLogState.load
