"""Single-use links sent by mail for account recovery and self-service (SPEC §13).

Only SHA-256 of each link's token is stored (a `user_token` row with its purpose); a link
works once, until it expires, and says clearly why it no longer works.
"""

from datetime import timedelta

from sqlmodel import Session, col, select, update

from orgportal import security
from orgportal.models import User, UserToken
from orgportal.models.base import utcnow
from orgportal.services.errors import InvalidToken


def issue(
    session: Session, user: User, purpose: str, ttl: timedelta, *, new_email: str = ""
) -> str:
    """A new link token for `user`; earlier unused links of the same purpose stop working,
    so only the newest mail's link does."""
    cancel_pending(session, user_id=user.id, purpose=purpose)
    raw = security.new_token()
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=security.token_hash(raw),
            expires_at=utcnow() + ttl,
            new_email=new_email,
        )
    )
    return raw


def check(session: Session, raw: str, purpose: str, *, what: str, lock: bool = False) -> UserToken:
    """The link's row if it can still be used, else InvalidToken saying why ("This password
    reset link has expired …"). `what` names the link in that message."""
    query = select(UserToken).where(
        UserToken.token_hash == security.token_hash(raw or ""), UserToken.purpose == purpose
    )
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise InvalidToken(f"This {what} link is not valid. Check that you copied all of it.")
    if row.used_at is not None:
        raise InvalidToken(
            f"This {what} link has already been used or was replaced by a newer one."
        )
    if row.expires_at <= utcnow():
        raise InvalidToken(f"This {what} link has expired.")
    return row


def take(session: Session, raw: str, purpose: str, *, what: str) -> UserToken:
    """`check`, then mark the link used (the row locked, so it works exactly once)."""
    row = check(session, raw, purpose, what=what, lock=True)
    row.used_at = utcnow()
    session.add(row)
    return row


def cancel_pending(session: Session, *, user_id: int, purpose: str) -> None:
    """Every unused link of this purpose stops working (e.g. reset links after a new password)."""
    session.exec(
        update(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose == purpose,
            col(UserToken.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )


def pending(session: Session, *, user_id: int, purpose: str) -> UserToken | None:
    """The newest unused, unexpired link of this purpose (e.g. an email change waiting)."""
    return session.exec(
        select(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose == purpose,
            col(UserToken.used_at).is_(None),
            UserToken.expires_at > utcnow(),
        )
        .order_by(col(UserToken.id).desc())
    ).first()
