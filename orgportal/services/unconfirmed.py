"""Accounts whose email address is not confirmed (SPEC §1; account pre-hijacking).

Anyone can register any address and sign in before confirming it. So an unconfirmed account
can do nothing that outlives the confirmation (no API keys, no joining organizations), and
when the address is proven by a mailed link that is not the registrant's sign-in — a
password-reset link, an invitation's registration form — everything the unconfirmed account
set up is cleared before the address's owner takes it over: sessions, API keys, pending
links, a two-factor set-up and passkeys (which would lock the owner out, or let the
stranger back in), personal links, files and projects, a personal plan, memberships, and
the organizations it created. The owner then starts from a clean account, confirmed, with
their own password.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, delete, select, update

from orgportal.adapters import storage
from orgportal.adapters.billing import BillingGateway
from orgportal.db import mark_usage_changed, mark_user_access_changed, remove_after_commit
from orgportal.models import (
    Link,
    Membership,
    Organization,
    Passkey,
    PasskeyChallenge,
    RecoveryCode,
    Role,
    StoredFile,
    TwoFactor,
    User,
    UserToken,
)
from orgportal.models.base import utcnow
from orgportal.models.project import Project
from orgportal.services import (
    account_audit,
    api_keys,
    billing,
    item_handover,
    organizations,
    usage_counters,
    user_sessions,
)


@dataclass(frozen=True)
class Cleared:
    """What `reclaim` removed (all zero and empty for a confirmed account)."""

    sessions: int = 0
    api_keys: int = 0
    links: int = 0
    files: int = 0
    organizations: tuple[str, ...] = ()

    @property
    def anything(self) -> bool:
        return bool(self.sessions or self.api_keys or self.links or self.files or self.organizations)


def reclaim(session: Session, user: User, *, proven_by: str, gateway: BillingGateway) -> Cleared:
    """The address of `user` was just proven by someone holding a mailed link (`proven_by`:
    "a password reset link", "an invitation"). A confirmed account is left as it is; an
    unconfirmed one is cleared (module docstring) and marked confirmed. In the caller's
    transaction: if Stripe refuses to cancel a subscription, nothing is cleared."""
    if user.email_confirmed_at is not None:
        return Cleared()
    owned = list(
        session.exec(
            select(Organization)
            .join(Membership, col(Membership.organization_id) == Organization.id)
            .where(Membership.user_id == user.id, Membership.role == Role.OWNER)
        )
    )
    for organization in owned:
        organizations.remove(session, organization, actor=user, gateway=gateway)
    billing.cancel_personal(session, gateway, user_id=user.id)
    links, files = _remove_personal_items(session, user)
    _leave_every_organization(session, user)
    sessions = user_sessions.revoke_all(session, user_id=user.id)
    keys = api_keys.revoke_all(session, user=user, because=f"your address was proven by {proven_by}")
    session.exec(
        update(UserToken)
        .where(col(UserToken.user_id) == user.id, col(UserToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.exec(delete(TwoFactor).where(col(TwoFactor.user_id) == user.id))
    session.exec(delete(Passkey).where(col(Passkey.user_id) == user.id))
    session.exec(delete(PasskeyChallenge).where(col(PasskeyChallenge.user_id) == user.id))
    user.email_confirmed_at = utcnow()
    session.add(user)
    usage_counters.resync(session, [user.id])
    mark_user_access_changed(session, [user.id])
    cleared = Cleared(sessions, keys, links, files, tuple(o.name for o in owned))
    account_audit.record(
        session,
        user=user,
        action="account.reclaimed",
        summary=f"Address proven by {proven_by} before it was confirmed: {describe(cleared)}",
    )
    return cleared


def describe(cleared: Cleared) -> str:
    """One sentence for the audit entry and the page: what was cleared."""
    if not cleared.anything:
        return "nothing had been set up."
    parts = [
        f"{count} {noun}{'s' if count != 1 else ''}"
        for count, noun in (
            (cleared.links, "link"),
            (cleared.files, "file"),
            (cleared.api_keys, "API key"),
            (cleared.sessions, "session"),
        )
        if count
    ]
    if cleared.organizations:
        parts.append("the organizations " + ", ".join(cleared.organizations))
    return "cleared " + ", ".join(parts) + "."


def _remove_personal_items(session: Session, user: User) -> tuple[int, int]:
    """The Personal Workspace's links, files (their bytes after commit) and projects."""
    personal = (col(StoredFile.owner_id) == user.id, col(StoredFile.organization_id).is_(None))
    keys = session.exec(select(StoredFile.storage_key).where(*personal)).all()
    remove_after_commit(session, storage.files(), list(keys))
    files = session.exec(delete(StoredFile).where(*personal)).rowcount or 0
    links = (
        session.exec(
            delete(Link).where(col(Link.owner_id) == user.id, col(Link.organization_id).is_(None))
        ).rowcount
        or 0
    )
    session.exec(
        delete(Project).where(col(Project.user_id) == user.id, col(Project.organization_id).is_(None))
    )
    return links, files


def _leave_every_organization(session: Session, user: User) -> None:
    """Memberships made before joins needed a confirmed address: what the user made in those
    organizations passes to each one's Owner, as when an account is deleted."""
    organization_ids = list(
        session.exec(select(Membership.organization_id).where(Membership.user_id == user.id))
    )
    if not organization_ids:
        return
    item_handover.hand_over_organization_items(session, user)
    session.exec(delete(Membership).where(col(Membership.user_id) == user.id))
    mark_usage_changed(session, organization_ids)
