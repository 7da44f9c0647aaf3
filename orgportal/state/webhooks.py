"""The Webhooks sub-page (SPEC §17): an organization's endpoints, Owner/Admin.

Adding an endpoint answers its signing secret once: it is kept in this tab's state until the
person presses Done or the page loads again, and never read back from the database. The
delivery log shows one endpoint at a time, a page at a time; after "Send test event" or
"Resend" the page reads the log again every second until nothing is waiting, so the worker's
delivery shows without a reload.
"""

import asyncio
import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from orgportal import formatting, routes
from orgportal.models import WebhookEndpoint, WebhookMessage
from orgportal.services import webhooks
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.paging import Paged

PAGE_SIZE = 20
LOG_PAGE_SIZE = 10
WATCH_SECONDS = 1.0
WATCH_ROUNDS = 30  # a test event is delivered within seconds; a failing one waits minutes


@dataclasses.dataclass
class EventChoice:
    type: str
    label: str


@dataclasses.dataclass
class EndpointRow:
    id: int
    url: str
    events: str  # "member.joined, ticket.created"
    event_list: list[str]
    enabled: bool
    state: str  # enabled / disabled
    disabled_reason: str
    added: str


@dataclasses.dataclass
class DeliveryRow:
    id: int
    message_id: str
    event_type: str
    status: str  # delivered, pending, retrying, failed
    response_code: str  # "200", "—"
    time: str  # of the last attempt, else when queued
    attempts: int
    error: str
    payload: str


EVENT_CHOICES = [EventChoice(t, f"{t} — {label}") for t, label in webhooks.EVENT_TYPES.items()]


class WebhooksState(Paged, AppState):
    PAGE_SIZE: ClassVar[int] = PAGE_SIZE
    endpoints: list[EndpointRow] = []
    endpoint_errors: dict[str, str] = {}
    endpoint_key: int = 0
    ENDPOINT_FORM: ClassVar[Form] = Form(
        errors="endpoint_errors", general="form", key="endpoint_key"
    )
    new_secret: str = ""  # the secret of the endpoint just added: shown once
    new_secret_url: str = ""
    log_endpoint_id: int = 0
    log_url: str = ""
    deliveries: list[DeliveryRow] = []
    log_page: int = 0
    log_total: int = 0
    _watching: bool = False

    @rx.var
    def log_page_count(self) -> int:
        return max(1, -(-self.log_total // LOG_PAGE_SIZE))

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        self.new_secret, self.new_secret_url = "", ""
        if not org_id or not self.caps.edit_organization:
            self.endpoints, self.total, self.page, self.deliveries = [], 0, 0, []
            self.log_endpoint_id, self.log_total = 0, 0
            return
        rows, total = webhooks.list_endpoints(
            session,
            user=viewer.user,
            organization_id=org_id,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )
        self.total = total
        self.endpoints = [_endpoint_row(row) for row in rows]
        if self.log_endpoint_id and not any(
            row.id == self.log_endpoint_id for row in self.endpoints
        ):
            self.log_endpoint_id = 0
        self._load_log(session, viewer)

    def _load_log(self, session: Session, viewer: Viewer) -> None:
        if not self.log_endpoint_id:
            self.deliveries, self.log_total, self.log_page, self.log_url = [], 0, 0, ""
            return
        rows, total = webhooks.deliveries(
            session,
            user=viewer.user,
            organization_id=viewer.session.active_org_id,
            endpoint_id=self.log_endpoint_id,
            limit=LOG_PAGE_SIZE,
            offset=self.log_page * LOG_PAGE_SIZE,
        )
        self.log_total = total
        self.deliveries = [_delivery_row(row) for row in rows]
        self.log_url = next((e.url for e in self.endpoints if e.id == self.log_endpoint_id), "")

    @rx.event
    def add_endpoint(self, form: dict):
        chosen = [t for t in webhooks.EVENT_TYPES if _checked(form.get(f"event:{t}"))]
        url = str(form.get("url", ""))

        outcome = self._act(
            webhooks.create_endpoint,
            form=self.ENDPOINT_FORM,
            done="Endpoint added. Copy its signing secret now.",
            url=url,
            event_types=chosen,
        )
        if outcome.ok:  # after the reload, which clears a secret shown before
            self.new_secret, self.new_secret_url = outcome.value.secret, outcome.value.endpoint.url
        return outcome.events

    @rx.event
    def save_events(self, form: dict):
        chosen = [t for t in webhooks.EVENT_TYPES if _checked(form.get(f"event:{t}"))]
        return self._act(
            webhooks.update_events,
            done="Events saved.",
            endpoint_id=int(form.get("endpoint_id", 0) or 0),
            event_types=chosen,
        ).events

    @rx.event
    def dismiss_secret(self):
        self.new_secret, self.new_secret_url = "", ""

    @rx.event
    def set_enabled(self, endpoint_id: int, enabled: bool):
        return self._act(
            webhooks.set_enabled,
            done="Endpoint enabled." if enabled else "Endpoint disabled.",
            endpoint_id=endpoint_id,
            enabled=enabled,
        ).events

    @rx.event
    def delete_endpoint(self, endpoint_id: int):
        return self._act(
            webhooks.delete_endpoint, done="Endpoint deleted.", endpoint_id=endpoint_id
        ).events

    @rx.event
    def show_log(self, endpoint_id: int):
        self.log_endpoint_id, self.log_page = endpoint_id, 0
        return self._refresh()

    @rx.event
    def hide_log(self):
        self.log_endpoint_id, self.deliveries, self.log_total = 0, [], 0

    @rx.event
    def go_to_log_page(self, page: int):
        self.log_page = max(0, min(int(page), self.log_page_count - 1))
        return self._refresh()

    @rx.event
    def send_test(self, endpoint_id: int):
        self.log_endpoint_id, self.log_page = endpoint_id, 0
        events = self._act(
            webhooks.send_test,
            done="Test event queued: it is sent within seconds.",
            endpoint_id=endpoint_id,
        ).events
        return _then(events, WebhooksState.watch_log)

    @rx.event
    def resend(self, delivery_id: int):
        self.log_page = 0
        events = self._act(
            webhooks.resend, done="Queued to be sent again.", delivery_id=delivery_id
        ).events
        return _then(events, WebhooksState.watch_log)

    @rx.event
    def refresh_log(self):
        return self._refresh()

    @rx.event(background=True)
    async def watch_log(self):
        """Read the log again every second while a message in it waits for its first try."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            for _ in range(WATCH_ROUNDS):
                await asyncio.sleep(WATCH_SECONDS)
                async with self:
                    if (self.router.url.path or "").rstrip("/") != routes.ORG_WEBHOOKS:
                        return
                    await run_in_threadpool(self._refresh)
                    if not any(row.status == "pending" for row in self.deliveries):
                        return
        finally:
            async with self:
                self._watching = False


def _then(events: object, more: object) -> list:
    """`events` as a handler returned them (None, one, or a list), then `more`."""
    if events is None:
        return [more]
    return [*events, more] if isinstance(events, list) else [events, more]


def _checked(value: object) -> bool:
    return bool(value) and str(value).lower() not in {"false", "off", "0"}


def _endpoint_row(row: WebhookEndpoint) -> EndpointRow:
    return EndpointRow(
        id=row.id,
        url=row.url,
        events=", ".join(webhooks.event_types_of(row)),
        event_list=webhooks.event_types_of(row),
        enabled=row.enabled,
        state="enabled" if row.enabled else "disabled",
        disabled_reason=row.disabled_reason,
        added=formatting.date(row.created_at),
    )


def _delivery_row(row: WebhookMessage) -> DeliveryRow:
    return DeliveryRow(
        id=row.id,
        message_id=row.message_id,
        event_type=row.event_type,
        status=webhooks.status_of(row),
        response_code=str(row.response_code) if row.response_code is not None else "—",
        time=formatting.date_time(row.last_attempt_at or row.created_at),
        attempts=row.attempts,
        error=row.last_error,
        payload=row.payload,
    )
