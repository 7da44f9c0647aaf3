"""The per-email sign-in lockout (SPEC §1 "Brute force", §13): failed attempts since the last
success, within the window, lock the email for the window.

Every proof of "it is really you" counts here alike (the password at sign-in and before
sensitive changes, a two-factor code at sign-in and before a new API key): check with
`refuse_if_locked` before the proof, then `refuse_attempt` on a wrong one or
`record_success` on a right one.
"""

from datetime import timedelta
from typing import NoReturn

from sqlmodel import Session, col, func, select

from orgportal.config import settings
from orgportal.models import LoginAttempt
from orgportal.models.base import utcnow
from orgportal.services.errors import AccountLocked, DomainError


def refuse_if_locked(session: Session, email: str) -> None:
    """AccountLocked when `email` has had too many failures since its last success within
    the window (before any password is hashed or code checked)."""
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(True)
        )
    ).one()
    since = max(window_start, last_success) if last_success else window_start
    failures = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email,
            col(LoginAttempt.succeeded).is_(False),
            LoginAttempt.at > since,
        )
    ).one()
    count, latest = failures
    if count >= settings.login_max_failures:
        unlock = latest + timedelta(minutes=settings.login_window_minutes)
        minutes = max(1, int((unlock - utcnow()).total_seconds() // 60) + 1)
        raise AccountLocked(
            f"Too many failed sign-in attempts for this email. Try again in {minutes} minutes."
        )


def refuse_attempt(session: Session, email: str, refusal: DomainError) -> NoReturn:
    """Record a failed attempt for `email`, commit it, then raise `refusal`.

    The one commit inside a service: the failure must outlive the refusal it causes (the
    caller's unit of work rolls back on it), or the lockout could never count it."""
    session.add(LoginAttempt(email=email, succeeded=False))
    session.commit()
    raise refusal


def record_success(session: Session, email: str) -> None:
    """A successful proof for `email`: the lockout counts only failures after it."""
    session.add(LoginAttempt(email=email, succeeded=True))
