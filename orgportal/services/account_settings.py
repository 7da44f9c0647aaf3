"""/account self-service (SPEC §13): name, password, email and deleting the account.

Every change that needs the current password counts a wrong one as a failed sign-in, so the
per-email lockout (SPEC §1) also stops guessing through these forms with a stolen session.
Every change is audited (`account_audit`).
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, delete, select

from orgportal import routes, security
from orgportal.adapters import storage
from orgportal.adapters.billing import BillingGateway, gateway_from_settings
from orgportal.config import settings
from orgportal.db import mark_usage_changed, mark_user_access_changed, remove_after_commit
from orgportal.models import (
    Link,
    LoginAttempt,
    Membership,
    Organization,
    Role,
    StoredFile,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    account_audit,
    account_links,
    accounts,
    api_keys,
    billing,
    item_handover,
    outbox,
    usage_counters,
    user_sessions,
    webhooks,
)
from orgportal.services.errors import Conflict, InvalidToken, ValidationFailed
from orgportal.services.password_reset import PASSWORD_RESET
from orgportal.services.validation import FieldError, new_password, normalize_email, text

EMAIL_CHANGE = "email_change"
EMAIL_CHANGE_NOTICE = "email_change_notice"
EMAIL_CHANGE_TTL = timedelta(hours=24)
WRONG_PASSWORD = accounts.WRONG_PASSWORD


def _check_password(session: Session, user: User, password: str, field: str) -> None:
    accounts.verify_current_password(session, user, password, field)


# --- profile ---------------------------------------------------------------------------------


def update_profile(session: Session, *, user: User, first_name: str, last_name: str) -> User:
    errors: dict[str, str] = {}
    names: dict[str, str] = {}
    for field, label, raw in (
        ("first_name", "First name", first_name),
        ("last_name", "Last name", last_name),
    ):
        try:
            names[field] = text(raw, label=label, min_len=1, max_len=80, single_line=True)
        except FieldError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    before = user.display_name
    if (user.first_name, user.last_name) == (names["first_name"], names["last_name"]):
        return user
    user.first_name, user.last_name = names["first_name"], names["last_name"]
    session.add(user)
    account_audit.record(
        session,
        user=user,
        action="account.name_changed",
        summary=f"Changed name from {before} to {user.display_name}",
    )
    return user


# --- password --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedOut:
    """What ended with a password change or "Sign out everywhere else"."""

    sessions: int
    api_keys: int

    def sentence(self) -> str:
        """ "2 other sessions signed out and 1 API key revoked." for the page's message."""
        sessions = f"{self.sessions} other session{'s' if self.sessions != 1 else ''} signed out"
        if not self.api_keys:
            return sessions + "."
        return f"{sessions} and {self.api_keys} API key{'s' if self.api_keys != 1 else ''} revoked."


def change_password(
    session: Session, *, user: User, current_session_id: int, current_password: str, password: str
) -> SignedOut:
    """Needs the current password; every other session ends and every API key is revoked
    (a key minted with a stolen session must not outlive the change)."""
    try:
        new_password(password, email=user.email)
    except FieldError as exc:
        raise ValidationFailed({"password": str(exc)}) from exc
    _check_password(session, user, current_password, "current_password")
    user.password_hash = security.hash_password(password)
    session.add(user)
    account_links.cancel_pending(session, user_id=user.id, purpose=PASSWORD_RESET)
    ended = user_sessions.revoke_all(session, user_id=user.id, keep_id=current_session_id)
    keys = api_keys.revoke_all(session, user=user, because="changed your password")
    done = SignedOut(ended, keys)
    account_audit.record(
        session,
        user=user,
        action="account.password_changed",
        summary=f"Changed password; {done.sentence()}",
    )
    return done


def sign_out_everywhere_else(session: Session, *, user: User, current_session_id: int) -> SignedOut:
    """Every other session ends and every API key is revoked: what someone did with a stolen
    session, a key included, stops here."""
    ended = user_sessions.revoke_others(session, user=user, current_id=current_session_id)
    keys = api_keys.revoke_all(session, user=user, because='used "Sign out everywhere else"')
    return SignedOut(ended, keys)


# --- email -----------------------------------------------------------------------------------


def request_email_change(session: Session, *, user: User, password: str, new_email: str) -> str:
    """Mail a confirmation link to the new address and a notice to the current one. The email
    changes only when the link is used. Returns the new address.

    An address that already has an account is answered exactly the same way (the page shows
    the change waiting, the current address gets its notice): refusing it would tell anyone
    signed in which addresses have accounts. The new address's mail says instead that
    nothing can change, and counts in the mail throttle like the link would."""
    try:
        address = normalize_email(new_email)
    except FieldError as exc:
        raise ValidationFailed({"new_email": str(exc)}) from exc
    if address == user.email:
        raise ValidationFailed({"new_email": "This is already your email address."})
    _check_password(session, user, password, "email_password")
    outbox.check_throttle(session, kinds=(EMAIL_CHANGE,), to=address, user_id=user.id)
    # issued either way, so the page shows the same waiting change; only mailed when free
    token = account_links.issue(session, user, EMAIL_CHANGE, EMAIL_CHANGE_TTL, new_email=address)
    if accounts.find_user(session, address) is not None:
        _tell_taken_address(session, user, address)
    else:
        link = f"{settings.public_url}{routes.email_change_link(token)}"
        outbox.queue_mail(
            session,
            to=address,
            subject="Confirm your new orgportal email address",
            body=f"Hello {user.first_name},\n\nYou asked to change the email address of your "
            f"orgportal account from {user.email} to {address}. Confirm it by opening this "
            f"link:\n{link}\n\nThe link is valid for 24 hours. Until you open it, your email "
            "address stays as it is.\n",
            link=link,
            kind=EMAIL_CHANGE,
            user_id=user.id,
        )
    login = f"{settings.public_url}{routes.LOGIN}"
    outbox.queue_mail(
        session,
        to=user.email,
        subject="Your orgportal email address is about to change",
        body=f"Hello {user.first_name},\n\nSomeone signed in to your orgportal account asked to "
        f"change its email address from {user.email} to {address}. It changes only when the "
        "link sent to the new address is opened.\n\nIf this was not you, sign in and change "
        f"your password now:\n{login}\n",
        link=login,
        kind=EMAIL_CHANGE_NOTICE,
        user_id=user.id,
    )
    account_audit.record(
        session,
        user=user,
        action="account.email_change_requested",
        summary=f"Asked to change email from {user.email} to {address}",
    )
    return address


def _tell_taken_address(session: Session, user: User, address: str) -> None:
    """The mail an address with an account gets instead of a confirmation link."""
    outbox.queue_mail(
        session,
        to=address,
        subject="Someone tried to move an orgportal account to your email address",
        body="Hello,\n\nSomeone signed in to orgportal asked to change their account's email "
        f"address to {address}. This address already has an orgportal "
        "account, so nothing was changed and no account was moved.\n\nIf you have two "
        "accounts and want one address for them, delete the account you no longer use "
        "first. Otherwise you can ignore this email.\n",
        kind=EMAIL_CHANGE,
        user_id=user.id,
    )


def pending_email_change(session: Session, *, user: User) -> str:
    """The address waiting for confirmation, "" if none."""
    row = account_links.pending(session, user_id=user.id, purpose=EMAIL_CHANGE)
    return row.new_email if row else ""


def cancel_email_change(session: Session, *, user: User) -> None:
    account_links.cancel_pending(session, user_id=user.id, purpose=EMAIL_CHANGE)


def confirm_email_change(session: Session, *, token: str) -> User:
    """The link from the new address's mail: the account's email becomes that address (now
    confirmed). Reset links mailed to the old address stop working. Invites sent to the old
    address stay with it."""
    row = account_links.take(session, token, EMAIL_CHANGE, what="email change")
    user = session.get(User, row.user_id)
    if user is None:
        raise InvalidToken("This email change link is not valid.")
    other = accounts.find_user(session, row.new_email)
    if other is not None and other.id != user.id:
        raise Conflict(
            f"{row.new_email} now belongs to another account, so your email was not changed."
        )
    before = user.email
    user.email, user.email_confirmed_at = row.new_email, utcnow()
    session.add(user)
    account_links.cancel_pending(session, user_id=user.id, purpose=PASSWORD_RESET)
    account_audit.record(
        session,
        user=user,
        action="account.email_changed",
        summary=f"Changed email from {before} to {user.email}",
    )
    return user


# --- delete ----------------------------------------------------------------------------------


def owned_organizations(session: Session, *, user: User) -> list[str]:
    """Names of the organizations the user owns (they block deleting the account)."""
    return list(
        session.exec(
            select(Organization.name)
            .join(Membership, col(Membership.organization_id) == Organization.id)
            .where(Membership.user_id == user.id, Membership.role == Role.OWNER)
            .order_by(Organization.name)
        )
    )


def delete_account(
    session: Session,
    *,
    user: User,
    password: str,
    confirm_email: str,
    gateway: BillingGateway | None = None,
) -> None:
    """Password and the typed email; refused while the user owns an organization. Their
    memberships end, their personal links and files (bytes too) and personal plan go, the
    links and files they made in organizations pass to each organization's owner, and audit
    entries keep their email as text. `gateway`: by default the site's."""
    if confirm_email.strip().lower() != user.email:
        raise ValidationFailed({"confirm_email": "Type your email address exactly to confirm."})
    _check_password(session, user, password, "delete_password")
    owned = owned_organizations(session, user=user)
    if owned:
        raise Conflict(
            f"You own {', '.join(owned)}. Transfer ownership to another member or delete "
            f"{'it' if len(owned) == 1 else 'them'} first."
        )
    billing.cancel_personal(session, gateway or gateway_from_settings(session), user_id=user.id)
    organization_ids = list(
        session.exec(select(Membership.organization_id).where(Membership.user_id == user.id))
    )
    for organization_id in organization_ids:
        webhooks.emit(session, organization_id, "member.left", {"user_id": user.id, "email": user.email, "removed_by": None, "account_deleted": True})
    account_audit.record(
        session,
        user=user,
        action="account.deleted",
        summary=f"{user.email} deleted their account; their membership ended",
    )
    item_handover.hand_over_organization_items(session, user)
    keys = session.exec(
        select(StoredFile.storage_key).where(
            StoredFile.owner_id == user.id, col(StoredFile.organization_id).is_(None)
        )
    ).all()
    remove_after_commit(session, storage.files(), keys)
    usage_counters.forget_user(session, user.id)
    session.exec(delete(StoredFile).where(col(StoredFile.owner_id) == user.id))
    session.exec(delete(Link).where(col(Link.owner_id) == user.id))
    session.exec(delete(Membership).where(col(Membership.user_id) == user.id))
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))
    mark_usage_changed(session, organization_ids)
    mark_user_access_changed(session, [user.id])  # its API keys stop at once
    session.delete(user)  # sessions, tokens, API keys, projects… go with it (ON DELETE)
