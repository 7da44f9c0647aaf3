"""Invitations (SPEC §4): send, resend, revoke, and the three ways to accept."""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, func, select

from orgportal import routes, security
from orgportal.adapters.billing import BillingGateway, gateway_from_settings
from orgportal.config import settings
from orgportal.db import mark_usage_changed
from orgportal.models import Invite, InviteStatus, Membership, Organization, Role, User
from orgportal.models.base import utcnow
from orgportal.services import (
    accounts,
    audit,
    notifications,
    outbox,
    seats,
    unconfirmed,
    usage_counters,
    webhooks,
)
from orgportal.services.accounts import Registration, Viewer
from orgportal.services.errors import (
    Conflict,
    InviteUnusable,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.permissions import (
    ASSIGNABLE_ROLES,
    Permission,
    invite_roles,
    membership_of,
    organization_row,
    require,
)
from orgportal.services.validation import FieldError, normalize_email

INVITE_TTL = timedelta(days=7)
# The invite page accepts at once after its own Sign in (`accepts_on_return`) this long.
ACCEPT_ON_RETURN_WITHIN = timedelta(minutes=2)


class AlreadyInvited(Conflict):
    def __init__(self, email: str, invite_id: int):
        super().__init__(f"{email} already has a pending invite. Resend it instead.")
        self.invite_id = invite_id


def invite_link(token: str) -> str:
    return f"{settings.public_url}{routes.invite(token)}"


def create_invite(
    session: Session, *, user: User, organization_id: int, email: str, role: str
) -> Invite:
    organization, membership = _require_inviter(session, user, organization_id, role)
    try:
        email = normalize_email(email)
    except FieldError as exc:
        raise ValidationFailed({"email": str(exc)}) from exc
    seats.lock_organization(session, organization_id)
    if _member_by_email(session, organization_id, email):
        raise Conflict(f"{email} is already a member of {organization.name}.")
    existing = session.exec(
        select(Invite).where(
            Invite.organization_id == organization_id,
            Invite.email == email,
            Invite.status == InviteStatus.PENDING,
        )
    ).first()
    if existing and not existing.is_expired():
        raise AlreadyInvited(email, existing.id)
    if existing:  # an expired invite never blocks a new one
        existing.status = InviteStatus.REVOKED
        session.add(existing)
    seats.require_free_seat(session, organization)
    invite = Invite(
        organization_id=organization_id,
        email=email,
        role=role,
        token_hash="",
        invited_by_id=user.id,
        expires_at=utcnow() + INVITE_TTL,
    )
    _send(session, invite, organization, user)
    mark_usage_changed(session, [organization_id])  # members / seats bar
    webhooks.emit(session, organization_id, "invite.created", {"email": email, "role": role, "invited_by": user.email})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.invited",
        summary=f"Invited {email} as {Role(role).label}",
    )
    return invite


def resend_invite(session: Session, *, user: User, organization_id: int, invite_id: int) -> Invite:
    """A fresh link valid for 7 days from now; the previous link stops working."""
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    organization = session.get(Organization, organization_id)
    invite = _pending_invite(session, organization_id, invite_id)
    if invite.is_expired():  # reviving takes a seat again
        seats.lock_organization(session, organization_id)
        seats.require_free_seat(session, organization, excluding_invite=invite.id)
    invite.expires_at = utcnow() + INVITE_TTL
    invite.sent_at = utcnow()
    _send(session, invite, organization, user)
    mark_usage_changed(session, [organization_id])  # members / seats bar
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.invite_resent",
        summary=f"Resent the invite to {invite.email}",
    )
    return invite


def revoke_invite(session: Session, *, user: User, organization_id: int, invite_id: int) -> None:
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    invite = _pending_invite(session, organization_id, invite_id)
    invite.status = InviteStatus.REVOKED
    invite.responded_at = utcnow()
    session.add(invite)
    mark_usage_changed(session, [organization_id])  # members / seats bar
    webhooks.emit(session, organization_id, "invite.revoked", {"invite_id": invite.id, "email": invite.email})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.invite_revoked",
        summary=f"Revoked the invite to {invite.email}",
    )


def list_invites(session: Session, *, user: User, organization_id: int) -> list[Invite]:
    """Pending invites, expired ones included (shown as Expired, revivable by Resend)."""
    return page_invites(session, user=user, organization_id=organization_id, limit=None)[0]


def page_invites(
    session: Session,
    *,
    user: User,
    organization_id: int,
    limit: int | None = 25,
    offset: int = 0,
) -> tuple[list[Invite], int]:
    """One page of pending invites, newest first, and how many there are."""
    require(session, user, organization_id, Permission.VIEW)
    pending = (
        Invite.organization_id == organization_id,
        Invite.status == InviteStatus.PENDING,
    )
    total = session.exec(select(func.count()).select_from(Invite).where(*pending)).one()
    statement = select(Invite).where(*pending).order_by(col(Invite.created_at).desc())
    if limit is not None:
        statement = statement.offset(max(0, offset)).limit(max(1, limit))
    return list(session.exec(statement)), total


# --- the accept page ----------------------------------------------------------------------


@dataclass(frozen=True)
class InviteDetails:
    """What the accept page may show about a usable invite."""

    email: str
    role: Role
    organization_name: str
    organization_description: str
    has_account: bool
    # an account exists for the email but its address was never confirmed: the page offers
    # both signing in (its maker) and creating the account afresh (the address's owner)
    account_unconfirmed: bool = False


def inspect_invite(session: Session, token: str) -> InviteDetails:
    invite, organization = _usable(session, token)
    user = accounts.find_user(session, invite.email)
    return InviteDetails(
        email=invite.email,
        role=Role(invite.role),
        organization_name=organization.name,
        organization_description=organization.description,
        has_account=user is not None,
        account_unconfirmed=user is not None and user.email_confirmed_at is None,
    )


def accept_as_new_user(
    session: Session,
    *,
    token: str,
    password: str,
    first_name: str,
    last_name: str,
    gateway: BillingGateway | None = None,
) -> tuple[User, int]:
    """Case 1: create a confirmed account for the invited email (whatever the form said) and join.

    An account whose address was never confirmed does not stand in the way: the invite link
    proves the address, so that account is cleared (`unconfirmed.reclaim`; `gateway`, by
    default the site's, cancels what it may have bought) and taken over with this form's
    password and names.

    Returns the user and the organization id, for opening a session in that workspace.
    """
    invite, organization = _usable(session, token, lock=True)
    existing = accounts.find_user(session, invite.email)
    if existing is not None and existing.email_confirmed_at is not None:
        raise Conflict("An account already exists for this email. Sign in to accept.")
    form = Registration(invite.email, password, first_name, last_name)
    if existing is None:
        user = accounts.register(session, form, confirmed=True)
    else:
        form = accounts.validate_registration(form)
        unconfirmed.reclaim(
            session,
            existing,
            proven_by="an invitation",
            gateway=gateway or gateway_from_settings(session),
        )
        existing.password_hash = security.hash_password(form.password)
        existing.first_name, existing.last_name = form.first_name, form.last_name
        session.add(existing)
        user = existing
    _join(session, invite, organization, user)
    accounts.remember_workspace(session, user, organization.id)  # its first session opens it
    return user, organization.id


def accept_invite(session: Session, *, viewer: Viewer, token: str) -> int:
    """Cases 2 and 3: the signed-in user accepts; the organization becomes their workspace."""
    invite, organization = _usable(session, token, lock=True)
    _require_invited_user(invite, viewer.user)
    if viewer.user.email_confirmed_at is None:
        # Joining needs a confirmed address (SPEC §1). The link was mailed to it and the
        # session proves the password: one person, so this confirms it.
        viewer.user.email_confirmed_at = utcnow()
        session.add(viewer.user)
    _join(session, invite, organization, viewer.user)
    # SPEC §4: joining makes it the active workspace, and the one the next sign-in opens
    accounts.switch_workspace(session, viewer, organization.id)
    return organization.id


def accepts_on_return(viewer: Viewer) -> bool:
    """Whether the invite page may accept at once, without an Accept click: its Sign in
    button comes back with a marker (`?accept=1`), honoured only for a session opened in
    the last two minutes (the sign-in redirects straight back). So the person has just
    signed in to accept; a link carrying the marker, opened by someone who was already
    signed in, still asks. `accept_invite` then checks everything else (the invite usable,
    the signed-in email the invited one)."""
    return viewer.session.created_at >= utcnow() - ACCEPT_ON_RETURN_WITHIN


def decline_invite(session: Session, *, viewer: Viewer, token: str) -> None:
    invite, organization = _usable(session, token, lock=True)
    _require_invited_user(invite, viewer.user)
    invite.status = InviteStatus.DECLINED
    invite.responded_at = utcnow()
    session.add(invite)
    mark_usage_changed(session, [organization.id])  # members / seats bar
    audit.record(
        session,
        organization_id=organization.id,
        actor=viewer.user,
        action="member.declined",
        summary=f"{invite.email} declined the invite",
    )


# --- helpers ------------------------------------------------------------------------------


def _require_inviter(
    session: Session, user: User, organization_id: int, role: str
) -> tuple[Organization, Membership]:
    """Owner/Admin invite any assignable role; Agents only Agents, and only if allowed."""
    if role not in {r.value for r in ASSIGNABLE_ROLES}:
        raise ValidationFailed({"role": "Choose Admin, Billing Admin, Agent or Viewer."})
    organization, membership = require(session, user, organization_id, Permission.VIEW)
    if membership.id is None:  # an organization API key invites with its "members" scope
        require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    if role in invite_roles(membership.role, organization):
        return organization, membership
    raise PermissionDenied("Your role does not allow inviting members with that role.")


def _member_by_email(session: Session, organization_id: int, email: str) -> Membership | None:
    return session.exec(
        select(Membership)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.organization_id == organization_id, User.email == email)
    ).first()


def _pending_invite(session: Session, organization_id: int, invite_id: int) -> Invite:
    invite = organization_row(session, Invite, invite_id, organization_id, "Invite not found.")
    if invite.status != InviteStatus.PENDING:
        raise Conflict(f"This invite was already {invite.status}.")
    return invite


def _send(session: Session, invite: Invite, organization: Organization, inviter: User) -> None:
    token = security.new_token()
    invite.token_hash = security.token_hash(token)
    session.add(invite)
    link = invite_link(token)
    outbox.queue_mail(
        session,
        to=invite.email,
        subject=f"{inviter.display_name} invited you to join {organization.name} on orgportal",
        body=(
            f"{inviter.display_name} invited you to join {organization.name} as "
            f"{Role(invite.role).label}.\n\nAccept the invitation here:\n{link}\n\n"
            f"The link is valid until {invite.expires_at:%d %B %Y %H:%M} UTC.\n"
        ),
        link=link,
        kind="invite",
        organization_id=organization.id,
    )


UNUSABLE_MESSAGES = {
    "invalid": "This invitation link is not valid. It may have been replaced by a newer email.",
    "expired": "This invitation has expired. Ask an administrator to send it again.",
    InviteStatus.REVOKED: "This invitation has been revoked.",
    InviteStatus.DECLINED: "This invitation was declined.",
    InviteStatus.ACCEPTED: "This invitation has already been used.",
}


def _usable(session: Session, token: str, *, lock: bool = False) -> tuple[Invite, Organization]:
    query = select(Invite).where(Invite.token_hash == security.token_hash(token or ""))
    invite = session.exec(query.with_for_update() if lock else query).first()
    organization = session.get(Organization, invite.organization_id) if invite else None
    if invite is None or organization is None:
        raise InviteUnusable("invalid", UNUSABLE_MESSAGES["invalid"])
    if invite.status != InviteStatus.PENDING:
        raise InviteUnusable(invite.status, UNUSABLE_MESSAGES[invite.status])
    if invite.is_expired():
        raise InviteUnusable("expired", UNUSABLE_MESSAGES["expired"])
    return invite, organization


def _require_invited_user(invite: Invite, user: User) -> None:
    if user.email != invite.email:
        raise PermissionDenied(
            f"This invitation is for {invite.email}. You are signed in as {user.email}."
        )


def _join(session: Session, invite: Invite, organization: Organization, user: User) -> None:
    """Turn the invite into a membership, once, inside the organization's seat lock."""
    seats.lock_organization(session, organization.id)
    session.refresh(invite)  # another accept may have won the lock first
    if invite.status != InviteStatus.PENDING:
        raise InviteUnusable(invite.status, UNUSABLE_MESSAGES[invite.status])
    if membership_of(session, user, organization.id) is None:
        seats.require_free_seat(session, organization, excluding_invite=invite.id)
        session.add(Membership(organization_id=organization.id, user_id=user.id, role=invite.role))
        session.flush()
        usage_counters.resync(session, [user.id])  # may now draw on the organization's plan
        notifications.member_joined(session, organization, user, invite.role)
        webhooks.emit(session, organization.id, "member.joined", {"user_id": user.id, "email": user.email, "role": invite.role})
    invite.status = InviteStatus.ACCEPTED
    invite.responded_at = utcnow()
    session.add(invite)
    mark_usage_changed(session, [organization.id])  # members / seats bar
    webhooks.emit(session, organization.id, "invite.accepted", {"invite_id": invite.id, "email": user.email, "role": invite.role})
    audit.record(
        session,
        organization_id=organization.id,
        actor=user,
        action="member.joined",
        summary=f"{user.email} joined as {Role(invite.role).label}",
    )
