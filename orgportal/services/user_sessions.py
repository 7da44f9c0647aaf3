"""A user's own sign-in sessions (SPEC §13, /account → Sessions): list them, sign one out,
or every one but this.

A revoked session stops working at once in every open tab: each event and API call
re-reads the session (`accounts.authenticate`). This module never imports `accounts`
(which calls `touch` on every authentication).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlmodel import Session, col, func, select, update

from orgportal.models import User, UserSession
from orgportal.models.base import utcnow
from orgportal.services import account_audit
from orgportal.services.errors import NotFound

LAST_SEEN_EVERY = timedelta(minutes=1)
PAGE_SIZE = 20
MAX_USER_AGENT = 512


def touch(session: Session, row: UserSession) -> None:
    """Note that the session was just used, at most once a minute (one cheap UPDATE)."""
    now = utcnow()
    if row.last_seen_at is None or now - row.last_seen_at >= LAST_SEEN_EVERY:
        row.last_seen_at = now
        session.add(row)


def record_client(row: UserSession, *, user_agent: str, address: str) -> None:
    """The browser and address that opened the session (set by the cookie route)."""
    row.user_agent = (user_agent or "")[:MAX_USER_AGENT]
    row.client_address = (address or "")[:64]
    row.last_seen_at = row.created_at


@lru_cache(maxsize=512)
def describe_agent(user_agent: str) -> str:
    """ "Firefox 133 on Windows" from a User-Agent header; "Unknown browser" without one."""
    if not user_agent:
        return "Unknown browser"
    from ua_parser import parse  # the regex tables load on first use

    result = parse(user_agent)
    browser = "Unknown browser"
    if result.user_agent and result.user_agent.family != "Other":
        browser = result.user_agent.family
        if result.user_agent.major:
            browser = f"{browser} {result.user_agent.major}"
    if result.os and result.os.family != "Other":
        return f"{browser} on {result.os.family}"
    return browser


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_seen_at: datetime | None
    browser: str  # "Chrome 131 on Linux"
    address: str
    current: bool


@dataclass(frozen=True)
class SessionPage:
    sessions: list[SessionInfo]
    total: int
    offset: int
    limit: int


def _active(user_id: int):
    return (
        UserSession.user_id == user_id,
        col(UserSession.revoked_at).is_(None),
        UserSession.expires_at > utcnow(),
    )


def list_sessions(
    session: Session, *, user: User, current_id: int, offset: int = 0, limit: int = PAGE_SIZE
) -> SessionPage:
    """The user's active sessions, this one first, then the most recently used."""
    offset, limit = max(0, offset), max(1, min(limit, 100))
    total = session.exec(select(func.count()).select_from(UserSession).where(*_active(user.id)))
    rows = session.exec(
        select(UserSession)
        .where(*_active(user.id))
        .order_by(
            (col(UserSession.id) == current_id).desc(),
            col(UserSession.last_seen_at).desc().nulls_last(),
            col(UserSession.id).desc(),
        )
        .offset(offset)
        .limit(limit)
    ).all()
    infos = [
        SessionInfo(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            browser=describe_agent(row.user_agent),
            address=row.client_address or "Unknown address",
            current=row.id == current_id,
        )
        for row in rows
    ]
    return SessionPage(infos, total.one(), offset, limit)


def revoke_session(session: Session, *, user: User, session_id: int) -> None:
    """Sign out one of the user's own sessions (another user's looks like a missing one)."""
    row = session.exec(
        select(UserSession).where(col(UserSession.id) == session_id, *_active(user.id))
    ).first()
    if row is None:
        raise NotFound("That session has already ended.")
    row.revoked_at = utcnow()
    session.add(row)
    where = f", {row.client_address}" if row.client_address else ""
    account_audit.record(
        session,
        user=user,
        action="account.session_revoked",
        summary=f"Signed out a session ({describe_agent(row.user_agent)}{where})",
    )


def revoke_others(session: Session, *, user: User, current_id: int) -> int:
    """Sign out everywhere else: every active session but `current_id`; returns how many."""
    count = revoke_all(session, user_id=user.id, keep_id=current_id)
    if count:
        account_audit.record(
            session,
            user=user,
            action="account.sessions_revoked",
            summary=f"Signed out {count} other session{'s' if count != 1 else ''}",
        )
    return count


def revoke_all(session: Session, *, user_id: int, keep_id: int | None = None) -> int:
    """End every active session of the user except `keep_id` (password reset and change)."""
    conditions = list(_active(user_id))
    if keep_id is not None:
        conditions.append(col(UserSession.id) != keep_id)
    result = session.exec(update(UserSession).where(*conditions).values(revoked_at=utcnow()))
    return result.rowcount or 0
