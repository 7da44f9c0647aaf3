"""Two-factor sign-in with TOTP codes and single-use recovery codes (SPEC §13).

Set-up stores an encrypted secret (`secret_box`) that stays pending until a code from it is
confirmed; then ten recovery codes are made, shown once and stored hashed. A code is checked
at the current 30-second step and one step either side; each step is accepted once (the
newest accepted step is kept, and that step or an older one is refused). At sign-in,
`accounts.sign_in` hands back a challenge instead of a ticket; `complete_sign_in` takes the
challenge and a code, counts a wrong code as a failed sign-in (the password lockout), and
only then issues the sign-in ticket.
"""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlmodel import Session, col, delete, select

from orgportal import security
from orgportal.db import mark_user_access_changed
from orgportal.models import Membership, Passkey, RecoveryCode, TwoFactor, User, UserToken
from orgportal.models.base import utcnow
from orgportal.services import accounts, audit, secret_box, sign_in_lockout
from orgportal.services.errors import (
    Conflict,
    DomainError,
    InvalidToken,
    ValidationFailed,
)

ISSUER = "orgportal"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_LENGTH = 16  # ≈ 79 bits each: a plain SHA-256 is a safe stored form
WINDOW = 1  # steps accepted either side of now
CODE_PATTERN = re.compile(r"^\d{6}$")
CHALLENGE_ENDED = "Your sign-in step expired. Please sign in again."


def clock() -> float:
    """Seconds since the epoch (tests replace it to stay on one 30-second step)."""
    return time.time()


class InvalidCode(DomainError):
    status = 400

    def __init__(self, message: str = "That code is not valid. Check it and try again."):
        super().__init__(message)


@dataclass(frozen=True)
class Setup:
    """What the set-up screen shows: the secret for manual entry and its QR code."""

    secret: str
    uri: str
    qr_data_uri: str


def is_enabled(session: Session, user_id: int) -> bool:
    """Whether the user has a second factor: an authenticator app or a passkey (SPEC §16).
    Then sign-in asks for it after the password, and organizations that require two-factor
    sign-in accept the user."""
    return totp_enabled(session, user_id) or (
        session.exec(select(Passkey.id).where(Passkey.user_id == user_id)).first() is not None
    )


def totp_enabled(session: Session, user_id: int) -> bool:
    """Whether the authenticator app (TOTP) is set up and confirmed."""
    row = session.get(TwoFactor, user_id)
    return row is not None and row.enabled_at is not None


def enabled_user_ids(session: Session, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` have two-factor sign-in on, by app or passkey (the members
    list's column)."""
    if not user_ids:
        return set()
    rows = session.exec(
        select(TwoFactor.user_id).where(
            col(TwoFactor.user_id).in_(user_ids), col(TwoFactor.enabled_at).is_not(None)
        )
    )
    with_passkey = session.exec(
        select(Passkey.user_id).where(col(Passkey.user_id).in_(user_ids))
    )
    return set(rows) | set(with_passkey)


def recovery_codes_left(session: Session, user: User) -> int:
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


# --- set up and turn off ------------------------------------------------------------------


def start_setup(session: Session, *, user: User) -> Setup:
    """A new secret, pending until `confirm_setup`; replaces an earlier unfinished one."""
    row = session.get(TwoFactor, user.id)
    if row is not None and row.enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.")
    secret = pyotp.random_base32()
    if row is None:
        row = TwoFactor(user_id=user.id, secret_box=secret_box.seal(secret))
    else:
        row.secret_box, row.last_step, row.created_at = secret_box.seal(secret), 0, utcnow()
    session.add(row)
    return describe_setup(secret, user.email)


def describe_setup(secret: str, email: str) -> Setup:
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    return Setup(secret=secret, uri=uri, qr_data_uri=qr)


def confirm_setup(session: Session, *, user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on with a current code from the pending secret; returns the
    ten recovery codes (shown once)."""
    row = _locked_row(session, user.id)
    if row is None:
        raise ValidationFailed({"code": "Start the set-up again: no pending secret was found."})
    if row.enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.")
    if not _accept_totp(row, code):
        raise ValidationFailed({"code": "That code is not valid. Check your app and try again."})
    row.enabled_at = utcnow()
    session.add(row)
    codes = _new_recovery_codes(session, user)
    mark_user_access_changed(session, [user.id])  # organizations requiring it accept the keys
    _audit_everywhere(session, user, "security.two_factor_enabled", "Two-factor sign-in on")
    return codes


def disable(session: Session, *, user: User, password: str, code: str) -> None:
    """Turn off with the password and a current code (or a recovery code)."""
    row = _locked_row(session, user.id)
    if row is None or row.enabled_at is None:
        raise Conflict("Two-factor sign-in is not on.")
    errors: dict[str, str] = {}
    if not security.verify_password(password, user.password_hash):
        errors["password"] = "Your password is not correct."
    elif not _accept_any(session, row, user, code)[0]:
        errors["code"] = "That code is not valid."
    if errors:
        raise ValidationFailed(errors)
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.delete(row)
    mark_user_access_changed(session, [user.id])  # organizations requiring it refuse the keys
    _audit_everywhere(session, user, "security.two_factor_disabled", "Two-factor sign-in off")


def regenerate_recovery_codes(session: Session, *, user: User, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), for a current TOTP code."""
    row = _locked_row(session, user.id)
    if row is None or row.enabled_at is None:
        raise Conflict("Two-factor sign-in is not on.")
    if not _accept_totp(row, code):
        raise ValidationFailed({"code": "That code is not valid."})
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    return _new_recovery_codes(session, user)


def recovery_codes_text(codes: list[str]) -> str:
    """The downloadable text file."""
    lines = "\n".join(codes)
    return (
        "orgportal recovery codes\n\nEach code signs you in once when you cannot use your "
        f"authenticator app. Keep them somewhere safe.\n\n{lines}\n"
    )


# --- sign in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """The second step passed: the sign-in ticket, and when a recovery code was used, how
    many unused ones are left (the page the user lands on says so)."""

    ticket: str
    recovery_codes_left: int | None = None


def complete_sign_in(session: Session, *, challenge: str, code: str, browser: str) -> str:
    """The second step: the challenge from `accounts.sign_in` and a code (TOTP or recovery).
    Returns the sign-in ticket (`finish_sign_in` also says whether a recovery code was used)."""
    return finish_sign_in(session, challenge=challenge, code=code, browser=browser).ticket


def finish_sign_in(session: Session, *, challenge: str, code: str, browser: str) -> SignedIn:
    """`complete_sign_in`, with the recovery codes left when one was used. A wrong code is a
    failed sign-in for the lockout."""
    token = session.exec(
        select(UserToken).where(
            UserToken.token_hash == security.token_hash(challenge + browser),
            UserToken.purpose == accounts.TWO_FACTOR_STEP,
        )
    ).first()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise InvalidToken(CHALLENGE_ENDED)
    user = session.get(User, token.user_id)
    if user is None:
        raise InvalidToken(CHALLENGE_ENDED)
    row = _locked_row(session, token.user_id)
    sign_in_lockout.refuse_if_locked(session, user.email)
    # An account with only passkeys has no code to accept: any code is a wrong one.
    accepted, codes_left = (
        _accept_any(session, row, user, code)
        if row is not None and row.enabled_at is not None
        else (False, None)
    )
    if not accepted:
        sign_in_lockout.refuse_attempt(session, user.email, InvalidCode())
    token.used_at = utcnow()
    session.add(token)
    sign_in_lockout.record_success(session, user.email)
    return SignedIn(accounts.issue_sign_in_ticket(session, user, browser=browser), codes_left)


def verify_code(session: Session, *, user: User, code: str, field: str = "code") -> None:
    """A current code (not a recovery code) from a signed-in user proving it is them again
    (e.g. before a new API key), or ValidationFailed on `field`. Replays are refused, and a
    wrong code counts toward the sign-in lockout like a wrong password."""
    sign_in_lockout.refuse_if_locked(session, user.email)
    row = _locked_row(session, user.id)
    if row is None or row.enabled_at is None or not _accept_totp(row, code):
        sign_in_lockout.refuse_attempt(
            session, user.email, ValidationFailed({field: "That code is not valid."})
        )
    session.add(row)


# --- codes ---------------------------------------------------------------------------------


def _locked_row(session: Session, user_id: int) -> TwoFactor | None:
    """The row, locked until commit: two requests with one code cannot both pass."""
    return session.exec(
        select(TwoFactor).where(TwoFactor.user_id == user_id).with_for_update()
    ).first()


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _accept_totp(row: TwoFactor, code: str) -> bool:
    """True for a code of now ±1 step not older than the newest accepted one; remembers it."""
    code = _clean(code)
    if not CODE_PATTERN.match(code):
        return False
    totp = pyotp.TOTP(secret_box.open_box(row.secret_box))
    current = int(clock() // totp.interval)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if step <= row.last_step:
                return False  # replayed (or older than one already used)
            row.last_step = step
            return True
    return False


def _accept_any(session: Session, row: TwoFactor, user: User, code: str) -> tuple[bool, int | None]:
    """A TOTP code, or else an unused recovery code (then marked used and audited): whether
    it was accepted, and after a recovery code how many are left."""
    if CODE_PATTERN.match(_clean(code)):
        accepted = _accept_totp(row, code)
        session.add(row)
        return accepted, None
    recovery = session.exec(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user.id, code),
            col(RecoveryCode.used_at).is_(None),
        )
        .with_for_update()
    ).first()
    if recovery is None:
        return False, None
    recovery.used_at = utcnow()
    session.add(recovery)
    session.flush()  # counted as used below
    left = recovery_codes_left(session, user)
    _audit_everywhere(
        session, user, "security.recovery_code_used", f"Recovery code used ({left} left)"
    )
    return True, left


def _recovery_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_clean(code)}".encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, raw)))
    return codes


def _audit_everywhere(session: Session, user: User, action: str, summary: str) -> None:
    """Account events go to the log of every organization the user belongs to: their
    Owners/Admins see who turned two-factor sign-in on or off."""
    org_ids = session.exec(select(Membership.organization_id).where(Membership.user_id == user.id))
    for org_id in org_ids:
        audit.record(
            session,
            organization_id=org_id,
            actor=user,
            action=action,
            summary=f"{summary}: {user.email}",
        )
