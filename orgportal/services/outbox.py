"""The mail outbox (SPEC §10): queued in the action's transaction, delivered by a worker.

A message is only marked sent after its transport accepted it; a failure is recorded and
retried with back-off, so neither the message nor the action that caused it is lost. A
message that still fails after MAIL_MAX_ATTEMPTS (a bad address, a header the server
refuses) is marked failed instead of being retried forever, and when it was sent for an
organization, its Owner/Admins read why in the audit log.

A mail server that cannot be reached (down, restarting, the network gone) is not the
message's fault (SPEC §18): the round stops, the message keeps its place and its
attempts, and the next round (a second later in the worker) tries again, so an outage of
any length gives nothing up and everything goes out as soon as the server answers.
"""

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, func, select, update

from orgportal import wording
from orgportal.adapters.mail import MailServerUnreachable
from orgportal.config import settings
from orgportal.models import OutboxMessage
from orgportal.models.base import utcnow
from orgportal.services import audit
from orgportal.services.errors import TooManyRequests

Transport = Callable[[OutboxMessage], None]
MAX_BACKOFF = timedelta(hours=1)
THROTTLE_WINDOW = timedelta(hours=1)
UNREACHABLE_LOG_EVERY = 60.0  # seconds: an outage is logged, not every round of it
log = logging.getLogger(__name__)
_unreachable_logged = float("-inf")


class MailThrottled(TooManyRequests):
    def __init__(self, limit: int, wait: timedelta):
        super().__init__(
            f"We already sent {wording.count(limit, 'email')} to this address in the last hour. "
            f"Try again in {wording.minutes(wait.total_seconds())}."
        )


def queue_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    link: str = "",
    kind: str = "",
    user_id: int | None = None,
    organization_id: int | None = None,
) -> None:
    """`kind` and `user_id` let account mails be throttled; `organization_id` says whose
    Owner/Admins hear about it if it can never be delivered. With `html` (already escaped
    by its writer) the mail carries both, `body` as its plain-text alternative."""
    session.add(
        OutboxMessage(
            to_address=to,
            subject=subject,
            body_text=body,
            body_html=html,
            link=link,
            kind=kind,
            user_id=user_id,
            organization_id=organization_id,
        )
    )


def check_throttle(
    session: Session, *, kinds: Collection[str], to: str, user_id: int | None = None
) -> None:
    """MailThrottled when MAIL_THROTTLE_PER_HOUR mails of `kinds` went to this address, or to
    this user, in the last hour. Counted in the outbox table, so all workers share the count."""
    since = utcnow() - THROTTLE_WINDOW
    whom = col(OutboxMessage.to_address) == to
    if user_id is not None:
        whom = or_(whom, col(OutboxMessage.user_id) == user_id)
    count, oldest = session.exec(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            col(OutboxMessage.kind).in_(kinds), OutboxMessage.created_at > since, whom
        )
    ).one()
    limit = settings.mail_throttle_per_hour
    if count >= limit:
        raise MailThrottled(limit, oldest + THROTTLE_WINDOW - utcnow())


def deliver_pending(
    engine: Engine,
    transport: Transport,
    *,
    batch: int = 50,
    stop: threading.Event | None = None,
) -> int:
    """Try every due message once; returns how many were delivered.

    When the transport cannot reach its server, the round ends there: the message is released
    as it was (still due, its attempts unchanged) and the others are not tried against a
    server that is down. `stop` (set when the worker shuts down) ends the round before the
    next message is claimed: the message being sent is finished, none is left claimed."""
    delivered = 0
    with Session(engine, expire_on_commit=False) as session:
        due = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None))
            .where(OutboxMessage.next_attempt_at <= utcnow())
            .order_by(col(OutboxMessage.id))
            .limit(batch)
        ).all()
        for message in due:
            if stop is not None and stop.is_set():
                break
            was_due_at = message.next_attempt_at
            if not _claim(session, message):
                continue  # another worker is delivering it
            message.attempts += 1
            try:
                transport(message)
            except MailServerUnreachable as exc:
                _release(session, message, was_due_at, str(exc))
                break
            except Exception as exc:  # any other transport failure is retried later
                message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                if message.attempts >= settings.mail_max_attempts:
                    _give_up(session, message)
                else:
                    message.next_attempt_at = utcnow() + retry_delay(message.attempts)
            else:
                message.sent_at = utcnow()
                message.last_error = ""
                delivered += 1
            session.add(message)
            session.commit()
    return delivered


def _release(session: Session, message: OutboxMessage, due_at: datetime, error: str) -> None:
    """Give the message back as it was before this attempt: the server, not the message,
    failed. It stays first in line for the next round."""
    global _unreachable_logged
    message.attempts -= 1
    message.next_attempt_at = due_at
    message.last_error = error[:1000]
    session.add(message)
    session.commit()
    if time.monotonic() - _unreachable_logged >= UNREACHABLE_LOG_EVERY:
        _unreachable_logged = time.monotonic()
        log.warning("outbox: %s; mail waits and is retried every round", error)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour: the default 8 attempts span about two hours, so a
    mail server that is down for a while does not make every queued message fail."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), MAX_BACKOFF)


def _give_up(session: Session, message: OutboxMessage) -> None:
    """Stop retrying, and tell the organization the mail was sent for (in the same commit)."""
    message.failed_at = utcnow()
    if message.organization_id is not None:
        audit.record(
            session,
            organization_id=message.organization_id,
            actor=None,
            action="mail.failed",
            summary=(
                f"Email to {message.to_address} could not be delivered after "
                f"{message.attempts} attempts: {message.last_error}"
            )[:1000],
        )


CLAIM_LEASE = timedelta(minutes=2)


def _claim(session: Session, message: OutboxMessage) -> bool:
    """Take one message for this worker: with several backend workers each message is sent by
    exactly one of them. The lease pushes its next attempt out, so a worker that dies while
    sending only delays the message; another one retries it when the lease ends."""
    claimed = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message.id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
            col(OutboxMessage.next_attempt_at) == message.next_attempt_at,
        )
        .values(next_attempt_at=utcnow() + CLAIM_LEASE)
    )
    session.commit()
    if claimed.rowcount != 1:
        return False
    session.refresh(message)
    return True
