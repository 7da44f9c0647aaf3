"""SCIM 2.0 provisioning (SPEC §16): the organization's identity provider adds, changes and
removes its members. The protocol (JSON, filters, PATCH) is `api/scim/`; the rules are here.

- **Provisioning** a user matches an existing account by email (it becomes a member), or
  creates one just in time: email confirmed by the provider, no password (the person uses
  Forgot password, or single sign-on, later). The member gets the role its role group
  gives, else the organization's default role (`default_role`: the one its join-by-domain
  settings give people, else Viewer) (or the role of a pending invitation to the same address, which
  is then used up). A new member takes a seat: beyond the seat limit (SPEC §5)
  provisioning is refused with `NoSeatsAvailable`, and nothing is written.
- **Deprovisioning** (`active` false, or deleting the user) removes the member: their
  sessions and API keys end at once (a leaver's browser and scripts stop now, not at
  expiry); their links and files stay in the organization's workspace. The Owner is never
  deprovisioned: ownership moves only by Transfer Ownership (SPEC §3).
- **Groups** are the roles (SPEC §3) an Owner/Admin could give: one group per assignable
  role. Owner is never a group, and the Owner's role never changes through SCIM.

Every change is in the audit log, with no person as actor (the provider acts), and
announced as members joining and leaving are elsewhere (notifications, webhooks: SPEC §17).
Only users this provisioning manages are SCIM resources; other members are not listed.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func as sa_func
from sqlmodel import Session, col, select

from orgportal.db import mark_access_changed, mark_usage_changed
from orgportal.models import (
    CompanyJoinSettings,
    Invite,
    InviteStatus,
    Membership,
    Organization,
    Role,
    ScimUser,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    api_keys,
    audit,
    members,
    notifications,
    seats,
    usage_counters,
    user_sessions,
    webhooks,
)
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.permissions import ASSIGNABLE_ROLES
from orgportal.services.validation import FieldError, normalize_email, text

# The role a provisioned member gets when the organization names none: the least one.
DEFAULT_ROLE = Role.VIEWER
GROUP_ROLES = ASSIGNABLE_ROLES
# What a just-in-time account has instead of a password hash: no password matches it.
NO_PASSWORD = "!"
MAX_PAGE = 200
VIA = "by the identity provider (SCIM)"


@dataclass(frozen=True)
class Person:
    """What the provider says about one user, already read from its SCIM resource."""

    user_name: str
    email: str  # the address the account is found or created by
    first_name: str = ""
    last_name: str = ""
    external_id: str = ""
    active: bool = True
    resource: dict[str, Any] | None = None  # the SCIM attributes to keep and return


@dataclass(frozen=True)
class Provisioned:
    """A provisioned user as the protocol shows it."""

    row: ScimUser
    role: Role | None  # the role group it is in (None for the Owner)
    member: bool  # a member of the organization right now

    @property
    def attributes(self) -> dict[str, Any]:
        return json.loads(self.row.resource or "{}")


def organization_of(session: Session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def default_role(session: Session, organization_id: int) -> Role:
    """The role the organization gives people who join without one chosen for them (its
    join-by-domain settings, SPEC §16), else `DEFAULT_ROLE`; never Owner."""
    settings_row = session.get(CompanyJoinSettings, organization_id)
    role = settings_row.default_role if settings_row else DEFAULT_ROLE
    return Role(role) if role in {r.value for r in GROUP_ROLES} else DEFAULT_ROLE


# --- users --------------------------------------------------------------------------------


def create_user(session: Session, *, organization_id: int, person: Person) -> Provisioned:
    organization = organization_of(session, organization_id)
    seats.lock_organization(session, organization_id)  # seats and userName, one at a time
    user_name = _user_name(person.user_name)
    _require_unique_user_name(session, organization_id, user_name)
    email = _email(person.email)
    account = session.exec(select(User).where(User.email == email)).first()
    if account is not None and _row_of_account(session, organization_id, account.id) is not None:
        raise Conflict(
            f"{email} is already provisioned in this organization under another userName."
        )
    membership = _membership(session, organization_id, account.id) if account else None
    role = (
        Role(membership.role)
        if membership and membership.role != Role.OWNER
        else default_role(session, organization_id)
    )
    if person.active and membership is None:
        role = _take_seat(session, organization, email) or role
    row = ScimUser(
        public_id=str(uuid.uuid4()),
        organization_id=organization_id,
        user_name=user_name,
        user_name_key=user_name.lower(),
        role=role,
        active=person.active,
    )
    _write_attributes(row, person)
    if account is None:
        account = User(
            email=email,
            password_hash=NO_PASSWORD,
            first_name=_name(person.first_name, "first_name", "First name"),
            last_name=_name(person.last_name, "last_name", "Last name"),
            email_confirmed_at=utcnow(),  # the organization's identity provider vouches
        )
        session.add(account)
        session.flush()
        row.account_created = True
    row.user_id = account.id
    session.add(row)
    session.flush()
    if person.active and membership is None:
        _join(session, organization, account, role)
    return _view(session, row)


def get_user(session: Session, *, organization_id: int, public_id: str) -> Provisioned:
    return _view(session, _row(session, organization_id, public_id))


def page_users(
    session: Session,
    *,
    organization_id: int,
    user_name: str | None = None,
    external_id: str | None = None,
    public_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Provisioned], int]:
    """One page of provisioned users, oldest first, and how many match (`eq` filters)."""
    matching = [ScimUser.organization_id == organization_id]
    if user_name is not None:
        matching.append(ScimUser.user_name_key == user_name.strip().lower())
    if external_id is not None:
        matching.append(ScimUser.external_id == external_id)
    if public_id is not None:
        matching.append(ScimUser.public_id == public_id)
    total = session.exec(select(sa_func.count()).select_from(ScimUser).where(*matching)).one()
    rows = session.exec(
        with_member_role()
        .where(*matching)
        .order_by(col(ScimUser.id))
        .offset(max(0, offset))
        .limit(max(0, min(limit, MAX_PAGE)))
    ).all()
    return [as_provisioned(row, member_role) for row, member_role in rows], total


def replace_user(
    session: Session, *, organization_id: int, public_id: str, person: Person
) -> Provisioned:
    """The provider's new view of the user (PUT, and PATCH once applied). The account's email
    never changes here: it may be someone's account in other organizations too."""
    organization = organization_of(session, organization_id)
    seats.lock_organization(session, organization_id)
    row = _row(session, organization_id, public_id)
    user_name = _user_name(person.user_name)
    if user_name.lower() != row.user_name_key:
        _require_unique_user_name(session, organization_id, user_name)
    row.user_name, row.user_name_key = user_name, user_name.lower()
    _write_attributes(row, person)
    account = session.get(User, row.user_id) if row.user_id else None
    if account is not None and row.account_created:
        account.first_name = _name(person.first_name, "first_name", "First name")
        account.last_name = _name(person.last_name, "last_name", "Last name")
        session.add(account)
    if account is not None and person.active != row.active:
        if person.active:
            _reactivate(session, organization, account, Role(row.role))
        else:
            _deprovision(session, organization, account)
    row.active = person.active
    _touch(session, row)
    return _view(session, row)


def delete_user(session: Session, *, organization_id: int, public_id: str) -> None:
    organization = organization_of(session, organization_id)
    row = _row(session, organization_id, public_id)
    account = session.get(User, row.user_id) if row.user_id else None
    if account is not None:
        _deprovision(session, organization, account)
    session.delete(row)


# --- groups (roles) -------------------------------------------------------------------------


def group_role(group_id: str) -> Role:
    """The role a group id names; NotFound for anything else (Owner is never a group)."""
    try:
        role = Role(group_id)
    except ValueError:
        role = None
    if role not in GROUP_ROLES:
        raise NotFound("Group not found.")
    return role


def group_members(session: Session, *, organization_id: int, role: Role) -> list[Provisioned]:
    """The provisioned users whose role is `role`: their membership's while they are
    members, else the one they will come back with."""
    effective = sa_func.coalesce(Membership.role, ScimUser.role)
    rows = session.exec(
        with_member_role()
        .where(ScimUser.organization_id == organization_id, effective == role.value)
        .order_by(col(ScimUser.id))
    ).all()
    return [as_provisioned(row, member_role) for row, member_role in rows]


def set_group_members(
    session: Session, *, organization_id: int, role: Role, public_ids: list[str]
) -> list[Provisioned]:
    """Make exactly these provisioned users the group's members: each gets `role`; those
    who leave the group fall back to the default role. Unknown ids change nothing (refused)."""
    organization = organization_of(session, organization_id)
    wanted = {
        row.id: row for row in (_row(session, organization_id, pid) for pid in set(public_ids))
    }
    current = {view.row.id: view.row for view in group_members(
        session, organization_id=organization_id, role=role
    )}  # fmt: skip
    for row_id, row in wanted.items():
        if row_id not in current:
            _set_role(session, organization, row, role)
    fallback = default_role(session, organization_id)
    for row_id, row in current.items():
        if row_id not in wanted and role != fallback:
            _set_role(session, organization, row, fallback)
    return group_members(session, organization_id=organization_id, role=role)


def _set_role(session: Session, organization: Organization, row: ScimUser, role: Role) -> None:
    row.role = role
    _touch(session, row)
    if row.user_id is None:
        return
    membership = _membership(session, organization.id, row.user_id)
    if membership is None or membership.role in (Role.OWNER, role):
        return  # not a member now (the role waits), or the Owner (never changed here)
    old = Role(membership.role)
    membership.role = role
    session.add(membership)
    mark_access_changed(session, [organization.id])
    account = session.get(User, row.user_id)
    audit.record(
        session,
        organization_id=organization.id,
        actor=None,
        action="member.role_changed",
        summary=f"Changed {account.email if account else row.user_name} from {old.label} "
        f"to {role.label} {VIA}",
    )
    webhooks.emit(session, organization.id, "member.role_changed", {
        "user_id": row.user_id, "email": account.email if account else row.user_name,
        "old_role": old.value, "role": role.value,
    })  # fmt: skip


# --- membership effects ---------------------------------------------------------------------


def _join(session: Session, organization: Organization, account: User, role: Role) -> None:
    session.add(Membership(organization_id=organization.id, user_id=account.id, role=role))
    session.flush()
    usage_counters.resync(session, [account.id])  # may now draw on the organization's plan
    mark_usage_changed(session, [organization.id])
    audit.record(
        session,
        organization_id=organization.id,
        actor=None,
        action="member.joined",
        summary=f"{account.email} joined as {role.label}, provisioned {VIA}",
    )
    notifications.member_joined(session, organization, account, role)
    webhooks.emit(session, organization.id, "member.joined",
                  {"user_id": account.id, "email": account.email, "role": role.value})  # fmt: skip


def _reactivate(session: Session, organization: Organization, account: User, role: Role) -> None:
    if _membership(session, organization.id, account.id) is not None:
        return
    _take_seat(session, organization, account.email)
    _join(session, organization, account, role)


def _take_seat(session: Session, organization: Organization, email: str) -> Role | None:
    """Refuse when no seat is free (SPEC §5; the caller holds the organization's seat lock).
    A pending invitation for the same address already holds a seat: it is used up (marked
    accepted) instead of counting twice, and its role is returned."""
    invite = session.exec(
        select(Invite).where(
            Invite.organization_id == organization.id,
            Invite.email == email,
            Invite.status == InviteStatus.PENDING,
            Invite.expires_at > utcnow(),
        )
    ).first()
    seats.require_free_seat(session, organization, excluding_invite=invite.id if invite else None)
    if invite is None:
        return None
    invite.status, invite.responded_at = InviteStatus.ACCEPTED, utcnow()
    session.add(invite)
    role = Role(invite.role)
    return role if role in GROUP_ROLES else None


def _deprovision(session: Session, organization: Organization, account: User) -> None:
    """End the membership, and with it every session and API key of the person at once."""
    membership = _membership(session, organization.id, account.id)
    if membership is None:
        return
    if membership.role == Role.OWNER:
        raise PermissionDenied(
            f"{account.email} owns this organization and cannot be deprovisioned. "
            "Transfer ownership to another member first."
        )
    members.end_membership(session, organization_id=organization.id, user_id=account.id)
    ended = user_sessions.revoke_all(session, user_id=account.id)
    keys = api_keys.revoke_all(
        session, user=account, because=f"were removed from {organization.name} by its "
        "identity provider",
    )  # fmt: skip
    audit.record(
        session,
        organization_id=organization.id,
        actor=None,
        action="member.removed",
        summary=f"Removed {account.email} {VIA}: {ended} session(s) and {keys} API key(s) "
        "ended; their links and files stay with the organization",
    )
    webhooks.emit(session, organization.id, "member.left",
                  {"user_id": account.id, "email": account.email, "removed_by": None})  # fmt: skip


# --- helpers --------------------------------------------------------------------------------


def _view(session: Session, row: ScimUser) -> Provisioned:
    membership = _membership(session, row.organization_id, row.user_id) if row.user_id else None
    return as_provisioned(row, membership.role if membership else None)


def with_member_role():
    """Provisioned users with their membership's role (None when not a member), one query
    for a whole page or group instead of one per user."""
    return select(ScimUser, Membership.role).join(
        Membership,
        (col(Membership.user_id) == ScimUser.user_id)
        & (col(Membership.organization_id) == ScimUser.organization_id),
        isouter=True,
    )


def as_provisioned(row: ScimUser, member_role: str | None) -> Provisioned:
    if member_role is not None:
        return Provisioned(row, None if member_role == Role.OWNER else Role(member_role), True)
    return Provisioned(row, Role(row.role), False)


def _row(session: Session, organization_id: int, public_id: str) -> ScimUser:
    row = session.exec(
        select(ScimUser).where(
            ScimUser.organization_id == organization_id, ScimUser.public_id == public_id
        )
    ).first()
    if row is None:
        raise NotFound(f"User {public_id} not found.")
    return row


def _row_of_account(session: Session, organization_id: int, user_id: int) -> ScimUser | None:
    return session.exec(
        select(ScimUser).where(
            ScimUser.organization_id == organization_id, ScimUser.user_id == user_id
        )
    ).first()


def _membership(session: Session, organization_id: int, user_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    ).first()


def _require_unique_user_name(session: Session, organization_id: int, user_name: str) -> None:
    taken = session.exec(
        select(ScimUser.id).where(
            ScimUser.organization_id == organization_id,
            ScimUser.user_name_key == user_name.lower(),
        )
    ).first()
    if taken is not None:
        raise Conflict(f"The userName {user_name} is already provisioned in this organization.")


def _user_name(raw: str) -> str:
    try:
        return text(raw or "", label="userName", min_len=1, max_len=254, single_line=True)
    except FieldError as exc:
        raise ValidationFailed({"userName": str(exc)}) from exc


def _email(raw: str) -> str:
    try:
        return normalize_email(raw or "")
    except FieldError as exc:
        raise ValidationFailed(
            {"emails": f"The user needs an email address for their account: {exc}"}
        ) from exc


def _name(raw: str, field: str, label: str) -> str:
    try:
        return text(raw or "", label=label, max_len=80, single_line=True)
    except FieldError as exc:
        raise ValidationFailed({field: str(exc)}) from exc


def _write_attributes(row: ScimUser, person: Person) -> None:
    try:
        row.external_id = text(
            person.external_id or "", label="externalId", max_len=255, single_line=True
        )
    except FieldError as exc:
        raise ValidationFailed({"externalId": str(exc)}) from exc
    resource = json.dumps(person.resource or {}, separators=(",", ":"))
    if len(resource) > 20_000:
        raise ValidationFailed({"resource": "This user's attributes are too large to keep."})
    row.resource = resource


def _touch(session: Session, row: ScimUser) -> None:
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
