"""/account self-service (SPEC §13): name, password, email and deleting the account.

Every change that needs the current password counts a wrong one as a failed sign-in, so the
per-email lockout (SPEC §1) also stops guessing through these forms with a stolen session.
Every change is audited (`account_audit`).
"""

from datetime import timedelta

from sqlalchemy import Table, union
from sqlmodel import Session, SQLModel, col, delete, select, update

from orgportal import routes, security
from orgportal.adapters import storage
from orgportal.adapters.billing import BillingGateway
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
    billing,
    outbox,
    usage_counters,
    user_sessions,
)
from orgportal.services.errors import Conflict, InvalidToken, ValidationFailed
from orgportal.services.password_reset import PASSWORD_RESET
from orgportal.services.validation import FieldError, new_password, normalize_email, text

EMAIL_CHANGE = "email_change"
EMAIL_CHANGE_NOTICE = "email_change_notice"
EMAIL_CHANGE_TTL = timedelta(hours=24)
WRONG_PASSWORD = "Your current password is incorrect."


def _check_password(session: Session, user: User, password: str, field: str) -> None:
    """The current password, or ValidationFailed on `field`; a wrong one counts toward the
    sign-in lockout, and a locked email is refused before any hashing."""
    accounts._refuse_if_locked(session, user.email)
    if not security.verify_password(password or "", user.password_hash):
        # As in accounts.sign_in: the failure must outlive the refusal it causes.
        session.add(LoginAttempt(email=user.email, succeeded=False))
        session.commit()
        raise ValidationFailed({field: WRONG_PASSWORD})


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


def change_password(
    session: Session, *, user: User, current_session_id: int, current_password: str, password: str
) -> int:
    """Needs the current password; every other session ends (returns how many)."""
    try:
        new_password(password, email=user.email)
    except FieldError as exc:
        raise ValidationFailed({"password": str(exc)}) from exc
    _check_password(session, user, current_password, "current_password")
    user.password_hash = security.hash_password(password)
    session.add(user)
    account_links.cancel_pending(session, user_id=user.id, purpose=PASSWORD_RESET)
    ended = user_sessions.revoke_all(session, user_id=user.id, keep_id=current_session_id)
    account_audit.record(
        session,
        user=user,
        action="account.password_changed",
        summary=f"Changed password; {ended} other session{'s' if ended != 1 else ''} signed out",
    )
    return ended


# --- email -----------------------------------------------------------------------------------


def request_email_change(session: Session, *, user: User, password: str, new_email: str) -> str:
    """Mail a confirmation link to the new address and a notice to the current one. The email
    changes only when the link is used. Returns the new address."""
    try:
        address = normalize_email(new_email)
    except FieldError as exc:
        raise ValidationFailed({"new_email": str(exc)}) from exc
    if address == user.email:
        raise ValidationFailed({"new_email": "This is already your email address."})
    _check_password(session, user, password, "email_password")
    if accounts.find_user(session, address) is not None:
        raise ValidationFailed({"new_email": "Another account already uses this email address."})
    outbox.check_throttle(session, kinds=(EMAIL_CHANGE,), to=address, user_id=user.id)
    token = account_links.issue(session, user, EMAIL_CHANGE, EMAIL_CHANGE_TTL, new_email=address)
    link = f"{settings.public_url}{routes.email_change_link(token)}"
    outbox.queue_mail(
        session,
        to=address,
        subject="Confirm your new orgportal email address",
        body=f"Hello {user.first_name},\n\nYou asked to change the email address of your orgportal "
        f"account from {user.email} to {address}. Confirm it by opening this link:\n{link}\n\n"
        "The link is valid for 24 hours. Until you open it, your email address stays as it is.\n",
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
    session: Session, *, user: User, password: str, confirm_email: str, gateway: BillingGateway
) -> None:
    """Password and the typed email; refused while the user owns an organization. Their
    memberships end, their personal links and files (bytes too) and personal plan go, the
    links and files they made in organizations pass to each organization's owner, and audit
    entries keep their email as text."""
    if confirm_email.strip().lower() != user.email:
        raise ValidationFailed({"confirm_email": "Type your email address exactly to confirm."})
    _check_password(session, user, password, "delete_password")
    owned = owned_organizations(session, user=user)
    if owned:
        raise Conflict(
            f"You own {', '.join(owned)}. Transfer ownership to another member or delete "
            f"{'it' if len(owned) == 1 else 'them'} first."
        )
    billing.cancel_personal(session, gateway, user_id=user.id)
    organization_ids = list(
        session.exec(select(Membership.organization_id).where(Membership.user_id == user.id))
    )
    account_audit.record(
        session,
        user=user,
        action="account.deleted",
        summary=f"{user.email} deleted their account; their membership ended",
    )
    _hand_over_organization_items(session, user)
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
    mark_user_access_changed(session, [user.id])  # its API keys stop at once (issue 16)
    session.delete(user)  # sessions, tokens, API keys, projects… go with it (ON DELETE)


def _workspace_tables() -> list[Table]:
    """Every table whose rows belong to a workspace through `organization_id` + `owner_id`
    (links, files, and what hangs on links such as click analytics)."""
    return [
        table
        for table in SQLModel.metadata.sorted_tables
        if {"owner_id", "organization_id"} <= set(table.c.keys())
    ]


def _hand_over_organization_items(session: Session, user: User) -> None:
    """What the user made inside organizations (links, files, their analytics) belongs to
    those organizations: it passes to each organization's owner instead of vanishing with
    the account (`owner_id` is ON DELETE CASCADE)."""
    tables = _workspace_tables()
    in_use = union(
        *[
            select(table.c.organization_id).where(
                table.c.owner_id == user.id, table.c.organization_id.is_not(None)
            )
            for table in tables
        ]
    )
    owners = session.exec(
        select(Membership.organization_id, Membership.user_id).where(
            Membership.role == Role.OWNER, col(Membership.organization_id).in_(in_use)
        )
    ).all()
    for organization_id, owner_id in owners:
        for table in tables:
            session.exec(
                update(table)
                .where(table.c.owner_id == user.id, table.c.organization_id == organization_id)
                .values(owner_id=owner_id)
            )
