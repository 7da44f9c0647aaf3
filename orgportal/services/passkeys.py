"""Passkeys (WebAuthn) as a second factor and as a password-less sign-in (SPEC §13, §16).

Every ceremony starts here with options for the browser (JSON, base64url as the `webauthn`
package writes it) and a random challenge kept server-side: hashed together with the
browser's sign-in nonce, single-use, valid for `CHALLENGE_TTL`. The browser's answer names its
challenge inside `clientDataJSON`; the challenge is looked up by that hash (so only the
browser it was made for can use it), spent at once, then the answer is verified by the
`webauthn` package against that challenge, our relying-party id (PUBLIC_URL's host) and
origin (PUBLIC_URL's scheme, host and port), and for sign-ins against the stored public
key and sign counter (a counter that did not move forward means a cloned authenticator:
refused). A challenge answered wrongly is spent too: it is committed before the refusal is
raised, as `sign_in_lockout.refuse_attempt` does with failures.

- Register (`begin_registration` / `finish_registration`): from the Account page, after
  the password (or a current authenticator code), with a name; a discoverable credential,
  so it can later sign in without an email.
- Password-less sign-in (`begin_sign_in` / `finish_sign_in`): no email; the passkey names
  its account, and the authenticator must have verified the user (PIN, biometrics): the
  passkey is then both factors. Returns a sign-in ticket like `accounts.sign_in`.
- Second step (`begin_second_step` / `finish_second_step`): after a right password of an
  account with two-factor sign-in (`accounts.SecondStep`), one of that account's passkeys
  instead of a code. A failure counts toward the sign-in lockout like a wrong code.
- Remove (`remove`): with the password or a current code again.

Adding, removing and signing in with a passkey are audited (`account_audit`).
"""

import json
import secrets
from datetime import timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from sqlmodel import Session, col, delete, func, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from orgportal import security
from orgportal.config import settings
from orgportal.db import mark_user_access_changed
from orgportal.models import Passkey, PasskeyChallenge, User, UserToken
from orgportal.models.base import utcnow
from orgportal.services import (
    account_audit,
    accounts,
    sign_in_lockout,
    sso_enforcement,
    two_factor,
)
from orgportal.services.errors import (
    Conflict,
    DomainError,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.validation import FieldError, text

RP_NAME = "orgportal"
CHALLENGE_TTL = timedelta(minutes=5)
CEREMONY_TIMEOUT_MS = 120_000  # what the browser waits for the person, inside the TTL
MAX_PASSKEYS = 20  # per account: the list stays one short table
MAX_ANSWER = 64_000  # characters of a browser's JSON answer
REGISTER, SIGN_IN, SECOND_STEP = "register", "sign_in", "second_step"
NOT_VERIFIED = "That passkey could not be verified. Please try again."
UNKNOWN_PASSKEY = (
    "This passkey is not registered with orgportal (it may have been removed). Sign in "
    "with your password instead."
)
CHALLENGE_ENDED = "That passkey request expired or was already used. Please try again."
CANCELLED = "No passkey was used (the request was cancelled or timed out)."
# What the browser's DOMException names mean for the person (the rest: CANCELLED).
BROWSER_ERRORS = {
    "InvalidStateError": "This device already holds a passkey for your account.",
    "NotSupportedError": "This browser or device does not support passkeys.",
    "SecurityError": "Passkeys work only on this site's own address (and over https).",
}


class PasskeyRefused(DomainError):
    """The browser's answer did not pass. `reason` says which check failed (logs, tests);
    the person sees `message`."""

    status = 400

    def __init__(self, message: str = NOT_VERIFIED, *, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


def rp_id() -> str:
    """The relying-party id: PUBLIC_URL's host (a passkey works only on it)."""
    return urlsplit(settings.public_url).hostname or "localhost"


def expected_origin() -> str:
    parts = urlsplit(settings.public_url)
    return f"{parts.scheme}://{parts.netloc}"


def list_passkeys(session: Session, *, user: User) -> list[Passkey]:
    """The user's passkeys, oldest first (at most MAX_PASSKEYS)."""
    return list(
        session.exec(
            select(Passkey).where(Passkey.user_id == user.id).order_by(col(Passkey.id))
        ).all()
    )


# --- register --------------------------------------------------------------------------------


def begin_registration(
    session: Session, *, user: User, name: str, password: str, code: str, browser: str
) -> str:
    """The options for `navigator.credentials.create`, after the password (or a current
    authenticator code): a new way into the account must not be open to whoever finds a
    browser signed in. Refused when the address is not confirmed (as for API keys: someone
    who registered another person's address must not keep a way in once its owner proves
    it, `unconfirmed.reclaim`), the name is empty or taken, or the account has MAX_PASSKEYS
    already."""
    if user.email_confirmed_at is None:  # a passkey would outlive the owner proving it
        raise PermissionDenied(
            "Confirm your email address before adding a passkey: open the link we sent to "
            f"{user.email} (the banner above can send it again)."
        )
    clean = _clean_name(session, user, name)
    _prove_it_is_them(session, user, password=password, code=code)
    if len(list_passkeys(session, user=user)) >= MAX_PASSKEYS:
        raise Conflict(f"You can have at most {MAX_PASSKEYS} passkeys. Remove one first.")
    _require_browser(browser)
    existing = list_passkeys(session, user=user)
    handle = existing[0].user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=base64url_to_bytes(handle),
        user_display_name=user.display_name,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    _store_challenge(
        session, options.challenge, browser, REGISTER, user_id=user.id, name=clean, handle=handle
    )
    return options_to_json(options)


def finish_registration(session: Session, *, user: User, answer: str, browser: str) -> Passkey:
    """Verify the browser's answer to `begin_registration` and keep the new passkey."""
    challenge, raw = _take_challenge(session, answer, browser, REGISTER, user_id=user.id)
    try:
        credential = parse_registration_credential_json(raw)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(_challenge_text(raw)),
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
        )
    except WebAuthnException as exc:
        _refuse(session, reason=str(exc))
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.exec(select(Passkey.id).where(Passkey.credential_id == credential_id)).first():
        _refuse(session, "This passkey is already registered.", reason="credential exists")
    # checked again: another tab may have added one since `begin_registration`
    mine = list_passkeys(session, user=user)
    if any(p.name.lower() == challenge.name.lower() for p in mine):
        _refuse(session, "You already have a passkey with this name.", reason="name taken")
    if len(mine) >= MAX_PASSKEYS:
        _refuse(session, f"You can have at most {MAX_PASSKEYS} passkeys.", reason="too many")
    transports = credential.response.transports or []
    passkey = Passkey(
        user_id=user.id,
        name=challenge.name,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        user_handle=challenge.user_handle,
        sign_count=verified.sign_count,
        transports=",".join(t.value for t in transports)[:200],
    )
    session.add(passkey)
    session.flush()
    mark_user_access_changed(session, [user.id])  # organizations requiring 2FA accept it now
    account_audit.record(
        session,
        user=user,
        action="security.passkey_added",
        summary=f"Passkey added ({passkey.name}): {user.email}",
    )
    return passkey


# --- password-less sign-in ------------------------------------------------------------------


def begin_sign_in(session: Session, *, browser: str) -> str:
    """Options for `navigator.credentials.get` without an email (discoverable credentials):
    the authenticator offers the passkeys it holds for this site."""
    _require_browser(browser)
    options = generate_authentication_options(
        rp_id=rp_id(),
        timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _store_challenge(session, options.challenge, browser, SIGN_IN)
    return options_to_json(options)


def finish_sign_in(session: Session, *, answer: str, browser: str) -> str:
    """Verify a password-less sign-in and return a sign-in ticket for this browser. The
    authenticator must have verified the user (the passkey stands for both factors)."""
    _challenge, raw = _take_challenge(session, answer, browser, SIGN_IN)
    passkey = _passkey_of_answer(session, raw)
    user = session.get(User, passkey.user_id)
    if user is None:
        _refuse(session, UNKNOWN_PASSKEY, reason="no user")
    _verify_assertion(session, passkey, raw, require_user_verification=True)
    # SPEC §16: where the organization enforces SSO a passkey is refused like a password
    # (the identity provider decides who comes in); its Owner's break-glass is audited.
    sso_enforcement.check_password_sign_in(session, user, method=sso_enforcement.PASSKEY)
    account_audit.record(
        session,
        user=user,
        action="security.passkey_used",
        summary=f"Signed in with a passkey ({passkey.name}): {user.email}",
    )
    return accounts.issue_sign_in_ticket(session, user, browser=browser)


# --- second step after the password ------------------------------------------------------------


def begin_second_step(session: Session, *, challenge: str, browser: str) -> str:
    """Options for `navigator.credentials.get` limited to the passkeys of the account whose
    password was just right (`challenge` from `accounts.SecondStep`)."""
    _token, user = _second_step_user(session, challenge, browser)
    passkeys = list_passkeys(session, user=user)
    if not passkeys:
        raise Conflict("This account has no passkey. Enter a code instead.")
    options = generate_authentication_options(
        rp_id=rp_id(),
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=_descriptors(passkeys),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _store_challenge(session, options.challenge, browser, SECOND_STEP, user_id=user.id)
    return options_to_json(options)


def finish_second_step(
    session: Session, *, challenge: str, answer: str, browser: str
) -> two_factor.SignedIn:
    """The second step with a passkey: the sign-in ticket. A passkey of another account, or
    an answer that does not pass, is a failed sign-in for the lockout."""
    token, user = _second_step_user(session, challenge, browser)
    sign_in_lockout.refuse_if_locked(session, user.email)
    _answer_json(answer)  # a cancelled browser dialog is no failed attempt
    try:
        _take_challenge(session, answer, browser, SECOND_STEP, user_id=user.id, commit=False)
        passkey = _passkey_of_answer(session, answer, commit=False)
        if passkey.user_id != user.id:
            raise PasskeyRefused(UNKNOWN_PASSKEY, reason="another user's passkey")
        _verify_assertion(session, passkey, answer, require_user_verification=False, commit=False)
    except PasskeyRefused as exc:
        sign_in_lockout.refuse_attempt(session, user.email, exc)  # commits the spent challenge
    token.used_at = utcnow()
    session.add(token)
    sign_in_lockout.record_success(session, user.email)
    account_audit.record(
        session,
        user=user,
        action="security.passkey_used",
        summary=f"Second step with a passkey ({passkey.name}): {user.email}",
    )
    return two_factor.SignedIn(accounts.issue_sign_in_ticket(session, user, browser=browser))


# --- remove -----------------------------------------------------------------------------------


def remove(session: Session, *, user: User, passkey_id: int, password: str, code: str) -> None:
    """Remove one of the user's own passkeys, after the password or a current code."""
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise NotFound("Passkey not found.")
    _prove_it_is_them(session, user, password=password, code=code)
    session.delete(passkey)
    mark_user_access_changed(session, [user.id])  # an organization may require 2FA
    account_audit.record(
        session,
        user=user,
        action="security.passkey_removed",
        summary=f"Passkey removed ({passkey.name}): {user.email}",
    )


# --- helpers ----------------------------------------------------------------------------------


def _clean_name(session: Session, user: User, name: str) -> str:
    try:
        clean = text(name, label="Passkey name", min_len=1, max_len=60, single_line=True)
    except FieldError as exc:
        raise ValidationFailed({"passkey_name": str(exc)}) from exc
    taken = session.exec(
        select(Passkey.id).where(
            Passkey.user_id == user.id, func.lower(Passkey.name) == clean.lower()
        )
    ).first()
    if taken is not None:
        raise ValidationFailed({"passkey_name": "You already have a passkey with this name."})
    return clean


def _prove_it_is_them(session: Session, user: User, *, password: str, code: str) -> None:
    """The password, or a current authenticator code when the account has one."""
    if (code or "").strip() and two_factor.totp_enabled(session, user.id):
        two_factor.verify_code(session, user=user, code=code, field="passkey_code")
        return
    accounts.verify_current_password(session, user, password, "passkey_password")


def _require_browser(browser: str) -> None:
    if not browser:
        raise NotAuthenticated("Please allow cookies for this site, reload the page and try again.")


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for passkey in passkeys:
        transports = []
        for name in filter(None, passkey.transports.split(",")):
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue
        out.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(passkey.credential_id), transports=transports or None
            )
        )
    return out


def _challenge_hash(challenge_text: str, browser: str) -> str:
    return security.token_hash(f"webauthn:{challenge_text}:{browser}")


def _store_challenge(
    session: Session,
    challenge: bytes,
    browser: str,
    purpose: str,
    *,
    user_id: int | None = None,
    name: str = "",
    handle: str = "",
) -> None:
    """Keep a new challenge; expired ones go (the sign-in page makes one per click, signed
    out, so the table holds at most CHALLENGE_TTL's worth)."""
    now = utcnow()
    session.exec(delete(PasskeyChallenge).where(col(PasskeyChallenge.expires_at) < now))
    session.add(
        PasskeyChallenge(
            token_hash=_challenge_hash(bytes_to_base64url(challenge), browser),
            purpose=purpose,
            user_id=user_id,
            name=name,
            user_handle=handle,
            expires_at=now + CHALLENGE_TTL,
        )
    )


def _answer_json(answer: str) -> dict:
    """The browser's answer as a JSON object, or PasskeyRefused."""
    if not isinstance(answer, str) or not answer or len(answer) > MAX_ANSWER:
        raise PasskeyRefused(reason="empty or oversized answer")
    try:
        value = json.loads(answer)
    except ValueError as exc:
        raise PasskeyRefused(reason="answer is not JSON") from exc
    if not isinstance(value, dict):
        raise PasskeyRefused(reason="answer is not an object")
    if value.get("error"):  # the browser's own refusal (cancelled, timed out, no passkey)
        name = str(value.get("error"))[:60]
        raise PasskeyRefused(BROWSER_ERRORS.get(name, CANCELLED), reason=f"browser: {name}")
    return value


def _challenge_text(answer: str) -> str:
    """The base64url challenge the browser signed, read from its clientDataJSON."""
    try:
        response = json.loads(answer)["response"]
        client_data = parse_client_data_json(base64url_to_bytes(response["clientDataJSON"]))
    except (KeyError, TypeError, ValueError, WebAuthnException) as exc:
        raise PasskeyRefused(reason="clientDataJSON unreadable") from exc
    return bytes_to_base64url(client_data.challenge)


def _take_challenge(
    session: Session,
    answer: str,
    browser: str,
    purpose: str,
    *,
    user_id: int | None = None,
    commit: bool = True,
) -> tuple[PasskeyChallenge, str]:
    """The stored challenge this answer was made for, by this browser, for `purpose` (and
    `user_id`), still unused and unexpired: marked used now. Returns it and the answer."""
    _answer_json(answer)
    row = session.exec(
        select(PasskeyChallenge)
        .where(
            PasskeyChallenge.token_hash == _challenge_hash(_challenge_text(answer), browser),
            PasskeyChallenge.purpose == purpose,
        )
        .with_for_update()
    ).first()
    if row is None or (user_id is not None and row.user_id != user_id):
        raise PasskeyRefused(CHALLENGE_ENDED, reason="unknown challenge")
    if row.used_at is not None:
        raise PasskeyRefused(CHALLENGE_ENDED, reason="challenge already used")
    row.used_at = utcnow()
    session.add(row)
    if row.expires_at <= row.used_at:
        _refuse(session, CHALLENGE_ENDED, reason="challenge expired", commit=commit)
    return row, answer


def _passkey_of_answer(session: Session, answer: str, *, commit: bool = True) -> Passkey:
    try:
        credential_id = json.loads(answer)["id"]
    except (KeyError, TypeError, ValueError):
        credential_id = None
    passkey = None
    if isinstance(credential_id, str):
        passkey = session.exec(
            select(Passkey).where(Passkey.credential_id == credential_id).with_for_update()
        ).first()
    if passkey is None:
        _refuse(session, UNKNOWN_PASSKEY, reason="unknown credential", commit=commit)
    return passkey


def _verify_assertion(
    session: Session,
    passkey: Passkey,
    answer: str,
    *,
    require_user_verification: bool,
    commit: bool = True,
) -> None:
    """Check the signature, relying party, origin, challenge, user handle and counter;
    then remember the new counter and the time of use."""
    try:
        credential = parse_authentication_credential_json(answer)
        handle = credential.response.user_handle
        if handle is not None and bytes_to_base64url(handle) != passkey.user_handle:
            raise PasskeyRefused(reason="user handle of another account")
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(_challenge_text(answer)),
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=require_user_verification,
        )
    except WebAuthnException as exc:
        _refuse(session, reason=str(exc), commit=commit)
    except PasskeyRefused as exc:
        _refuse(session, exc.message, reason=exc.reason, commit=commit)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    session.add(passkey)


def _refuse(
    session: Session, message: str = NOT_VERIFIED, *, reason: str = "", commit: bool = True
) -> NoReturn:
    """Raise PasskeyRefused, the spent challenge committed first (unless the caller
    commits it with its own refusal: the second step's lockout)."""
    if commit:
        session.commit()
    raise PasskeyRefused(message, reason=reason)


def _second_step_user(session: Session, challenge: str, browser: str) -> tuple[UserToken, User]:
    """The pending second step of a sign-in (the password was right) and its user."""
    token = session.exec(
        select(UserToken).where(
            UserToken.token_hash == security.token_hash(challenge + browser),
            UserToken.purpose == accounts.TWO_FACTOR_STEP,
        )
    ).first()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise InvalidToken(two_factor.CHALLENGE_ENDED)
    user = session.get(User, token.user_id)
    if user is None:
        raise InvalidToken(two_factor.CHALLENGE_ENDED)
    return token, user

