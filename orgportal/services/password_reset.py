"""Forgot password (SPEC §13): a single-use link, valid one hour, that sets a new password.

Asking answers the same for every address (nothing tells whether it has an account); only
the link's hash is stored. Using it sets the new password (registration's rules), signs
out every session of the user, revokes their API keys, cancels the account's other reset
links and clears the sign-in lockout; an unconfirmed account is cleared first (account pre-hijacking). Reset mails are throttled per address and per user like other account mail
(over the limit nothing is sent, silently: a refusal would reveal the account).
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from orgportal import routes, security
from orgportal.adapters.billing import BillingGateway, gateway_from_settings
from orgportal.config import settings
from orgportal.models import User
from orgportal.services import (
    account_audit,
    account_links,
    accounts,
    api_keys,
    outbox,
    sign_in_lockout,
    unconfirmed,
    user_sessions,
)
from orgportal.services.errors import InvalidToken, ValidationFailed
from orgportal.services.validation import FieldError, new_password, normalize_email

PASSWORD_RESET = "password_reset"
RESET_TTL = timedelta(hours=1)
RESET_MAIL_KINDS = (PASSWORD_RESET,)
WHAT = "password reset"


def request_reset(session: Session, *, email: str) -> str:
    """Mail a reset link if the address has an account; returns the normalized address for
    the page's "check your inbox" answer, which is the same either way."""
    try:
        address = normalize_email(email)
    except FieldError as exc:
        raise ValidationFailed({"email": str(exc)}) from exc
    user = accounts.find_user(session, address)
    if user is None:
        return address
    try:
        outbox.check_throttle(session, kinds=RESET_MAIL_KINDS, to=user.email, user_id=user.id)
    except outbox.MailThrottled:
        return address
    token = account_links.issue(session, user, PASSWORD_RESET, RESET_TTL)
    link = f"{settings.public_url}{routes.password_reset_link(token)}"
    outbox.queue_mail(
        session,
        to=user.email,
        subject="Reset your orgportal password",
        body=f"Hello {user.first_name},\n\nSomeone, hopefully you, asked to reset the password of "
        f"your orgportal account. Choose a new password here:\n{link}\n\n"
        "The link is valid for 1 hour and works once. Setting a new password signs you out "
        "everywhere else.\n\nIf you did not ask for this, ignore this email: your password "
        "stays as it is.\n",
        link=link,
        kind=PASSWORD_RESET,
        user_id=user.id,
    )
    return address


def check_link(session: Session, *, token: str) -> User:
    """Whose link this is, if it can still be used (the page asks before showing its form)."""
    row = account_links.check(session, token, PASSWORD_RESET, what=WHAT)
    user = session.get(User, row.user_id)
    if user is None:
        raise InvalidToken(f"This {WHAT} link is not valid.")
    return user


@dataclass(frozen=True)
class ResetDone:
    user: User
    api_keys_revoked: int
    # not None when the address had never been confirmed: what the account held was
    # cleared before the link's holder took it over (`unconfirmed.reclaim`)
    reclaimed: unconfirmed.Cleared | None


def reset_password(
    session: Session, *, token: str, password: str, gateway: BillingGateway | None = None
) -> ResetDone:
    """Set the new password through the link. A refused password leaves the link usable.

    Every session ends and every API key is revoked (a thief's key must not outlive the
    reset). An unconfirmed account is first cleared and then confirmed: the link proved the
    address, not that its holder made the account (`gateway`, by default the site's, cancels a
    subscription it may have bought)."""
    user = check_link(session, token=token)
    try:
        new_password(password, email=user.email)
    except FieldError as exc:
        raise ValidationFailed({"password": str(exc)}) from exc
    account_links.take(session, token, PASSWORD_RESET, what=WHAT)
    reclaimed = None
    if user.email_confirmed_at is None:
        reclaimed = unconfirmed.reclaim(
            session, user, proven_by="a password reset link",
            gateway=gateway or gateway_from_settings(session),
        )  # fmt: skip
    user.password_hash = security.hash_password(password)
    session.add(user)
    account_links.cancel_pending(session, user_id=user.id, purpose=PASSWORD_RESET)
    ended = user_sessions.revoke_all(session, user_id=user.id)
    keys = api_keys.revoke_all(session, user=user, because="reset your password")
    # The lockout counts failures since the last success: this ends it, so the owner can
    # sign in with the new password at once.
    sign_in_lockout.record_success(session, user.email)
    account_audit.record(
        session,
        user=user,
        action="account.password_reset",
        summary=f"Set a new password through an emailed link; {ended} session"
        f"{'s' if ended != 1 else ''} signed out, {keys} API key{'s' if keys != 1 else ''} "
        "revoked",
    )
    if reclaimed is not None:
        keys += reclaimed.api_keys
    return ResetDone(user=user, api_keys_revoked=keys, reclaimed=reclaimed)
