"""The mail outbox (SPEC §10): queued in the action's transaction, delivered by a worker.

A message is only marked sent after its transport accepted it; a failure is recorded and
retried with back-off, so neither the message nor the action that caused it is lost.
"""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select, update

from orgportal.models import OutboxMessage
from orgportal.models.base import utcnow

Transport = Callable[[OutboxMessage], None]
MAX_BACKOFF = timedelta(minutes=10)


def queue_mail(session: Session, *, to: str, subject: str, body: str, link: str = "") -> None:
    session.add(OutboxMessage(to_address=to, subject=subject, body_text=body, link=link))


def deliver_pending(engine: Engine, transport: Transport, *, batch: int = 50) -> int:
    """Try every due message once; returns how many were delivered."""
    delivered = 0
    with Session(engine, expire_on_commit=False) as session:
        due = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None))
            .where(OutboxMessage.next_attempt_at <= utcnow())
            .order_by(col(OutboxMessage.id))
            .limit(batch)
        ).all()
        for message in due:
            if not _claim(session, message):
                continue  # another worker is delivering it
            message.attempts += 1
            try:
                transport(message)
            except Exception as exc:  # any transport failure is retried later
                message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                delay = min(timedelta(seconds=2 ** min(message.attempts, 10)), MAX_BACKOFF)
                message.next_attempt_at = utcnow() + delay
            else:
                message.sent_at = utcnow()
                message.last_error = ""
                delivered += 1
            session.add(message)
            session.commit()
    return delivered


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
            col(OutboxMessage.next_attempt_at) == message.next_attempt_at,
        )
        .values(next_attempt_at=utcnow() + CLAIM_LEASE)
    )
    session.commit()
    if claimed.rowcount != 1:
        return False
    session.refresh(message)
    return True
