"""Outgoing webhooks (SPEC §17), signed as the Standard Webhooks specification says.

Owners and Admins add endpoints: an https URL on a public address (`adapters/webhook_http.py`
refuses loopback, private, link-local and metadata addresses, at save time and again at
every delivery), the event types it wants, and a signing secret (`whsec_…`) shown once.

Services call `emit(session, organization_id, type, data)` where the action happens, inside
its transaction: one `WebhookMessage` row per enabled endpoint subscribed to the type, so
the message exists exactly when the action does (the outbox pattern, as services/outbox.py
does for mail). The app's worker loop runs `deliver_pending` every second: each due row is
claimed by one worker (a conditional update), signed (`webhook-id`, `webhook-timestamp`,
`webhook-signature`) and POSTed. A 2xx answer delivers it; anything else (another status, a
redirect, which is never followed, a timeout, a refused address) is retried on the Standard
Webhooks schedule, RETRY_SCHEDULE, for about a day. A worker that stops mid-send leaves its
claim to expire (CLAIM_LEASE), and another worker sends the message again.

Delivery is therefore **at least once**: a message is never dropped, but a receiver may see
the same `webhook-id` twice (and a Resend sends the same id again) and should ignore repeats.

An endpoint whose every attempt has failed for DISABLE_AFTER (a day) is disabled, and its
organization's Owner is mailed. Its undelivered messages wait; enabling it again resumes
them, and a message given up can be sent again with Resend from the delivery log.
"""

import base64
import json
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select, update
from standardwebhooks import Webhook

from orgportal import routes
from orgportal.adapters import webhook_http
from orgportal.config import settings
from orgportal.models import Organization, User, WebhookEndpoint, WebhookMessage
from orgportal.models.base import utcnow
from orgportal.services import audit, outbox, secret_box
from orgportal.services.errors import Conflict, ValidationFailed
from orgportal.services.paging import one_page
from orgportal.services.permissions import Permission, organization_row, owner_of, require

log = logging.getLogger(__name__)

# The events an endpoint can subscribe to, and what each one means (the Webhooks page).
EVENT_TYPES: dict[str, str] = {
    "member.joined": "A person joined the organization",
    "member.left": "A member left or was removed",
    "member.role_changed": "A member's role changed",
    "invite.created": "An invitation was sent",
    "invite.accepted": "An invitation was accepted",
    "invite.revoked": "An invitation was revoked",
    "link.created": "A link was created",
    "link.approved": "A link was approved",
    "link.deleted": "A link was deleted",
    "ticket.created": "A support ticket was opened",
    "ticket.replied": "A ticket got a reply",
    "ticket.closed": "A ticket was closed",
    "subscription.changed": "The plan or seats subscription changed",
    "usage.threshold": "Pooled usage reached 80 % or 100 %",
    "domain.verified": "A custom domain was verified",
    "domain.failed": "A custom domain failed verification",
}
TEST_EVENT = "webhook.test"  # sent by "Send test event", whatever the endpoint subscribes to

# Standard Webhooks' suggested schedule: the delay before each retry (the first attempt is
# immediate). Eight attempts over about 27 hours.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
DISABLE_AFTER = timedelta(days=1)  # every attempt failing this long disables the endpoint
CLAIM_LEASE = timedelta(minutes=2)  # > one attempt's timeouts: a dead worker's claim expires
MAX_ENDPOINTS = 20
SEND_THREADS = 8  # one slow endpoint does not hold the others up

Send = Callable[..., webhook_http.Response]


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # `whsec_…`: shown once, never again


# --- endpoints --------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def event_types_of(endpoint: WebhookEndpoint) -> list[str]:
    return endpoint.event_types.split()


def check_url(url: str) -> str:
    """The URL as stored, or ValidationFailed({"url": …}) when it may not be called."""
    url = (url or "").strip()
    if not url:
        raise ValidationFailed({"url": "Enter the endpoint's URL."})
    if len(url) > 2000:
        raise ValidationFailed({"url": "The URL is too long (at most 2,000 characters)."})
    try:
        webhook_http.resolve_target(url, allow_private=settings.webhooks_allow_private_targets)
    except webhook_http.TargetRefused as exc:
        raise ValidationFailed({"url": str(exc)}) from None
    return url


def _check_events(event_types: list[str]) -> str:
    chosen = [t for t in EVENT_TYPES if t in set(event_types)]
    unknown = set(event_types) - set(EVENT_TYPES)
    if unknown:
        raise ValidationFailed({"events": f"Unknown event type: {', '.join(sorted(unknown))}."})
    if not chosen:
        raise ValidationFailed({"events": "Choose at least one event."})
    return " ".join(chosen)


def create_endpoint(
    session: Session, *, user: User, organization_id: int, url: str, event_types: list[str]
) -> NewEndpoint:
    """Owner/Admin. The secret is returned here only; it is stored sealed (secret_box)."""
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    errors: dict[str, str] = {}
    try:
        url = check_url(url)
    except ValidationFailed as exc:
        errors |= exc.errors
    try:
        events = _check_events(event_types)
    except ValidationFailed as exc:
        errors |= exc.errors
    if errors:
        raise ValidationFailed(errors)
    if _count(session, organization_id) >= MAX_ENDPOINTS:
        raise Conflict(f"An organization can have at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url=url,
        event_types=events,
        secret_sealed=secret_box.seal(secret),
    )
    session.add(endpoint)
    session.flush()
    _audit(session, endpoint, user, "webhook.endpoint_added", f"Webhook endpoint {url} added")
    return NewEndpoint(endpoint, secret)


def _count(session: Session, organization_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.organization_id == organization_id)
        ).one()
    )


def list_endpoints(
    session: Session, *, user: User, organization_id: int, limit: int = 20, offset: int = 0
) -> tuple[list[WebhookEndpoint], int]:
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    rows = session.exec(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.organization_id == organization_id)
        .order_by(col(WebhookEndpoint.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), _count(session, organization_id)


def get_endpoint(
    session: Session, *, user: User, organization_id: int, endpoint_id: int
) -> WebhookEndpoint:
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return organization_row(
        session, WebhookEndpoint, endpoint_id, organization_id, "Webhook endpoint not found."
    )


def update_events(
    session: Session, *, user: User, organization_id: int, endpoint_id: int, event_types: list[str]
) -> WebhookEndpoint:
    """Change the event types an endpoint receives (from the next event on)."""
    endpoint = get_endpoint(
        session, user=user, organization_id=organization_id, endpoint_id=endpoint_id
    )
    endpoint.event_types = _check_events(event_types)
    session.add(endpoint)
    _audit(
        session,
        endpoint,
        user,
        "webhook.endpoint_updated",
        f"Webhook endpoint {endpoint.url} now receives {endpoint.event_types.replace(' ', ', ')}",
    )
    session.flush()
    return endpoint


def set_enabled(
    session: Session, *, user: User, organization_id: int, endpoint_id: int, enabled: bool
) -> WebhookEndpoint:
    """Disable: nothing is sent to it, new events are not queued for it. Enable: its waiting
    messages are sent again, and the failing clock starts over."""
    endpoint = get_endpoint(
        session, user=user, organization_id=organization_id, endpoint_id=endpoint_id
    )
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    endpoint.failing_since = None
    endpoint.disabled_reason = "" if enabled else "Disabled by a person"
    session.add(endpoint)
    if enabled:  # waiting messages are due again now
        session.exec(
            update(WebhookMessage)
            .where(
                col(WebhookMessage.endpoint_id) == endpoint.id,
                col(WebhookMessage.delivered_at).is_(None),
                col(WebhookMessage.failed_at).is_(None),
            )
            .values(next_attempt_at=utcnow())
        )
    action = "webhook.endpoint_enabled" if enabled else "webhook.endpoint_disabled"
    word = "enabled" if enabled else "disabled"
    _audit(session, endpoint, user, action, f"Webhook endpoint {endpoint.url} {word}")
    session.flush()
    return endpoint


def delete_endpoint(session: Session, *, user: User, organization_id: int, endpoint_id: int):
    endpoint = get_endpoint(
        session, user=user, organization_id=organization_id, endpoint_id=endpoint_id
    )
    # What ON DELETE CASCADE does, also where SQLite's foreign keys are off.
    session.exec(WebhookMessage.__table__.delete().where(WebhookMessage.endpoint_id == endpoint.id))
    session.delete(endpoint)
    _audit(
        session,
        endpoint,
        user,
        "webhook.endpoint_deleted",
        f"Webhook endpoint {endpoint.url} deleted",
    )
    session.flush()


def _audit(session: Session, endpoint: WebhookEndpoint, actor: User | None, action: str, text: str):
    audit.record(
        session,
        organization_id=endpoint.organization_id,
        actor=actor,
        action=action,
        summary=text[:1000],
    )


# --- events -----------------------------------------------------------------------------------


def payload(event_type: str, data: dict[str, Any], at: datetime | None = None) -> str:
    """The body, as Standard Webhooks lays it out: type, timestamp and data."""
    at = at or utcnow()
    body = {"type": event_type, "timestamp": at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def emit(session: Session, organization_id: int | None, event_type: str, data: dict) -> int:
    """Queue `event_type` for every enabled endpoint of the organization subscribed to it, in
    the caller's transaction (nothing for the Personal Workspace). Returns how many."""
    if organization_id is None:
        return 0
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.organization_id == organization_id,
            col(WebhookEndpoint.enabled).is_(True),
        )
    ).all()
    wanted = [e for e in endpoints if event_type in event_types_of(e)]
    if not wanted:
        return 0
    body = payload(event_type, _public_ids(session, {"organization_id": organization_id, **data}))
    message_id = new_message_id()
    for endpoint in wanted:
        session.add(
            WebhookMessage(
                endpoint_id=endpoint.id,
                organization_id=organization_id,
                message_id=message_id,
                event_type=event_type,
                payload=body,
            )
        )
    return len(wanted)


def _public_ids(session: Session, data: dict) -> dict:
    """The organization and the user named by the ids the REST API shows (SPEC §8: `org_…`,
    `user_…`), never the internal integers, so a receiver can look them up there."""
    named = dict(data)
    organization = session.get(Organization, named["organization_id"])
    named["organization_id"] = organization.public_id if organization else None
    if isinstance(named.get("user_id"), int):
        person = session.get(User, named["user_id"])
        named["user_id"] = person.public_id if person else None
    return named


def send_test(
    session: Session, *, user: User, organization_id: int, endpoint_id: int
) -> WebhookMessage:
    """Queue a `webhook.test` message for this endpoint (delivered within seconds)."""
    endpoint = get_endpoint(
        session, user=user, organization_id=organization_id, endpoint_id=endpoint_id
    )
    _require_enabled(endpoint)
    message = WebhookMessage(
        endpoint_id=endpoint.id,
        organization_id=organization_id,
        message_id=new_message_id(),
        event_type=TEST_EVENT,
        payload=payload(
            TEST_EVENT,
            {"organization_id": organization_id, "message": "A test event from orgportal."},
        ),
    )
    session.add(message)
    session.flush()
    return message


def resend(
    session: Session, *, user: User, organization_id: int, delivery_id: int
) -> WebhookMessage:
    """Send a logged message again, with its own `webhook-id` and body (a new log entry)."""
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    old = organization_row(
        session, WebhookMessage, delivery_id, organization_id, "Delivery not found."
    )
    endpoint = session.get(WebhookEndpoint, old.endpoint_id)
    _require_enabled(endpoint)
    again = WebhookMessage(
        endpoint_id=old.endpoint_id,
        organization_id=organization_id,
        message_id=old.message_id,
        event_type=old.event_type,
        payload=old.payload,
    )
    session.add(again)
    session.flush()
    return again


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("This endpoint is disabled. Enable it first.")


def deliveries(
    session: Session,
    *,
    user: User,
    organization_id: int,
    endpoint_id: int,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[WebhookMessage], int]:
    """One page of the endpoint's delivery log, newest first, and the total."""
    endpoint = get_endpoint(
        session, user=user, organization_id=organization_id, endpoint_id=endpoint_id
    )
    return one_page(
        session,
        WebhookMessage,
        WebhookMessage.endpoint_id == endpoint.id,
        order_by=(col(WebhookMessage.id).desc(),),
        limit=limit,
        offset=offset,
    )


def status_of(message: WebhookMessage) -> str:
    """delivered, failed (given up), retrying (an attempt failed) or pending (not tried)."""
    if message.delivered_at is not None:
        return "delivered"
    if message.failed_at is not None:
        return "failed"
    return "retrying" if message.attempts else "pending"


# --- delivery ---------------------------------------------------------------------------------


def signed_headers(secret: str, message: WebhookMessage, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with the endpoint's secret."""
    signature = Webhook(secret).sign(message.message_id, at, message.payload)
    return {
        "webhook-id": message.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def deliver_pending(
    engine: Engine,
    *,
    send: Send = webhook_http.post,
    now: datetime | None = None,
    batch: int = 50,
    stop: threading.Event | None = None,
) -> int:
    """Try every due message of an enabled endpoint once; returns how many were delivered.
    `now` is the clock (tests move it a day on); `stop` (the worker shutting down) keeps
    the round from claiming more."""
    now = now or utcnow()
    with Session(engine) as session:
        due = session.exec(
            select(WebhookMessage.id, WebhookMessage.next_attempt_at)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookMessage.endpoint_id)
            .where(
                col(WebhookMessage.delivered_at).is_(None),
                col(WebhookMessage.failed_at).is_(None),
                WebhookMessage.next_attempt_at <= now,
                col(WebhookEndpoint.enabled).is_(True),
            )
            .order_by(col(WebhookMessage.id))
            .limit(batch)
        ).all()
    if not due:
        return 0

    def one(row: tuple[int, datetime]) -> bool:
        if stop is not None and stop.is_set():
            return False
        try:
            return _deliver_one(engine, row[0], row[1], send, now)
        except Exception:  # a bug or the database: the claim expires and it is retried
            log.exception("webhook delivery of message %s failed", row[0])
            return False

    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(due))) as pool:
        return sum(pool.map(one, due))


def _deliver_one(
    engine: Engine, message_pk: int, due_at: datetime, send: Send, now: datetime
) -> bool:
    with Session(engine, expire_on_commit=False) as session:
        claimed = session.exec(
            update(WebhookMessage)
            .where(
                col(WebhookMessage.id) == message_pk,
                col(WebhookMessage.delivered_at).is_(None),
                col(WebhookMessage.failed_at).is_(None),
                col(WebhookMessage.next_attempt_at) == due_at,
            )
            .values(next_attempt_at=now + CLAIM_LEASE)
        )
        session.commit()
        if claimed.rowcount != 1:
            return False  # another worker took it
        message = session.get(WebhookMessage, message_pk)
        endpoint = session.get(WebhookEndpoint, message.endpoint_id) if message else None
        if message is None or endpoint is None:
            return False  # deleted with its endpoint meanwhile
        if not endpoint.enabled:  # disabled meanwhile: give the message back, due as it was
            message.next_attempt_at = due_at
            session.add(message)
            session.commit()
            return False
        session.commit()  # no transaction stays open while the request waits
        secret = secret_box.open_box(endpoint.secret_sealed)
        body = message.payload.encode()
        error, response = "", None
        try:
            response = send(
                endpoint.url,
                body,
                signed_headers(secret, message, utcnow()),
                allow_private=settings.webhooks_allow_private_targets,
            )
        except (webhook_http.TargetRefused, webhook_http.DeliveryFailed) as exc:
            error = str(exc)
        message.attempts += 1
        message.last_attempt_at = utcnow()
        message.response_code = response.status if response else None
        message.response_body = response.body[: webhook_http.RESPONSE_LIMIT] if response else ""
        if response is not None and 300 <= response.status < 400:
            error = f"Redirect to {response.location or '(no Location)'} not followed"
        elif response is not None and not 200 <= response.status < 300:
            error = f"HTTP {response.status}"
        message.last_error = error[:1000]
        if not error:
            message.delivered_at = utcnow()
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
        else:
            if message.attempts >= MAX_ATTEMPTS:
                message.failed_at = utcnow()
            else:
                message.next_attempt_at = now + RETRY_SCHEDULE[message.attempts - 1]
            endpoint.failing_since = endpoint.failing_since or now
        session.add(message)
        session.add(endpoint)
        if error and endpoint.failing_since <= now - DISABLE_AFTER:
            _disable_failing(session, endpoint)
        session.commit()
        return not error


def _disable_failing(session: Session, endpoint: WebhookEndpoint) -> None:
    """Every attempt failed for a day: disable the endpoint (once, even with several workers)
    and tell the Owner by mail and the audit log, in the same commit."""
    reason = "Disabled automatically: every delivery failed for a day"
    changed = session.exec(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint.id, col(WebhookEndpoint.enabled).is_(True))
        .values(enabled=False, disabled_reason=reason)
    ).rowcount
    if not changed:
        return
    session.expire(endpoint, ["enabled", "disabled_reason"])
    _audit(session, endpoint, None, "webhook.endpoint_disabled", f"{reason}: {endpoint.url}")
    owner = owner_of(session, endpoint.organization_id)
    if owner is not None:
        outbox.queue_mail(
            session,
            to=owner.email,
            subject="A webhook endpoint was disabled",
            body=(
                f"Every delivery to the webhook endpoint {endpoint.url} failed for a day, so "
                "it was disabled. Messages not delivered are kept: fix the endpoint, then "
                "enable it again on the Webhooks page, and use Resend for any that were "
                "given up."
            ),
            link=f"{settings.public_url}{routes.ORG_WEBHOOKS}",
            organization_id=endpoint.organization_id,
        )
