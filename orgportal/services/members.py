"""Members: list, change role, remove, transfer ownership, leave (SPEC §3)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, func, or_, select, update

from orgportal.db import mark_access_changed, mark_usage_changed
from orgportal.models import Membership, Role, User, UserSession
from orgportal.services import audit, company_domains, usage_counters, webhooks
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.permissions import ASSIGNABLE_ROLES, Permission, require


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    email: str
    role: Role
    joined_at: datetime


def list_members(session: Session, *, user: User, organization_id: int) -> list[Member]:
    """Every member, oldest first: for small, known-bounded uses; pages use `page_members`."""
    return page_members(session, user=user, organization_id=organization_id, limit=None)[0]


def owner_id(session: Session, organization_id: int) -> int:
    """The Owner's user id (every organization has exactly one; callers checked access)."""
    return session.exec(
        select(Membership.user_id).where(
            Membership.organization_id == organization_id, Membership.role == Role.OWNER
        )
    ).one()


# How a members page may be sorted: what people expect from a members table.
SORTS = {
    "joined": (col(Membership.joined_at), col(Membership.id)),
    "name": (func.lower(User.first_name + " " + User.last_name), col(User.email)),
    "email": (func.lower(User.email),),
    # by rank: Owner, Admin, Billing Admin, Agent, Viewer
    "role": (
        case({role.value: rank for rank, role in enumerate(Role)}, value=Membership.role),
        func.lower(User.email),
    ),
}


def page_members(
    session: Session,
    *,
    user: User,
    organization_id: int,
    query: str = "",
    sort: str = "joined",
    limit: int | None = 25,
    offset: int = 0,
) -> tuple[list[Member], int]:
    """One page of members (name or email containing `query`, any case) and how many match:
    a big organization's list is read a page at a time, in the database."""
    require(session, user, organization_id, Permission.VIEW)
    matching = [Membership.organization_id == organization_id]
    needle = query.strip().lower()
    if needle:
        full_name = func.lower(User.first_name + " " + User.last_name)
        matching.append(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                full_name.contains(needle, autoescape=True),
            )
        )
    joined = select(Membership, User).join(User, col(User.id) == Membership.user_id)
    total = session.exec(
        select(func.count())
        .select_from(Membership)
        .join(User, col(User.id) == Membership.user_id)
        .where(*matching)
    ).one()
    statement = joined.where(*matching).order_by(*SORTS.get(sort, SORTS["joined"]))
    if limit is not None:
        statement = statement.offset(max(0, offset)).limit(max(1, limit))
    rows = session.exec(statement).all()
    found = [Member(u.id, u.display_name, u.email, Role(m.role), m.joined_at) for m, u in rows]
    return found, total


SEARCH_LIMIT = 10


def search_members(
    session: Session, *, user: User, organization_id: int, query: str, limit: int = SEARCH_LIMIT
) -> list[Member]:
    """Members whose name or email contains `query` (any case), the first `limit` by name.
    Pickers ask this as people type instead of loading every member of a big organization."""
    require(session, user, organization_id, Permission.VIEW)
    needle = query.strip().lower()
    if not needle:
        return []
    full_name = func.lower(User.first_name + " " + User.last_name)
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(
            Membership.organization_id == organization_id,
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                full_name.contains(needle, autoescape=True),
            ),
        )
        .order_by(full_name, col(User.email))
        .limit(max(1, min(limit, 50)))
    ).all()
    return [Member(u.id, u.display_name, u.email, Role(m.role), m.joined_at) for m, u in rows]


def change_role(
    session: Session, *, user: User, organization_id: int, member_id: int, role: str
) -> None:
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    if role not in {r.value for r in ASSIGNABLE_ROLES}:
        raise ValidationFailed({"role": "The Owner role moves only by Transfer Ownership."})
    target, target_user = _member(session, organization_id, member_id)
    if target.role == Role.OWNER:
        raise PermissionDenied(
            "The Owner's role cannot be changed. The Owner can transfer ownership."
        )
    if target.role == role:
        return
    old = Role(target.role)
    target.role = role
    session.add(target)
    mark_access_changed(session, [organization_id])  # cached API callers
    webhooks.emit(session, organization_id, "member.role_changed", {"user_id": target_user.id, "email": target_user.email, "old_role": old.value, "role": role})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.role_changed",
        summary=f"Changed {target_user.email} from {old.label} to {Role(role).label}",
    )


def remove_member(session: Session, *, user: User, organization_id: int, member_id: int) -> None:
    require(session, user, organization_id, Permission.MANAGE_MEMBERS)
    target, target_user = _member(session, organization_id, member_id)
    if target.role == Role.OWNER:
        raise PermissionDenied("The Owner cannot be removed. The Owner can transfer ownership.")
    if target_user.id == user.id:
        raise Conflict("Use Leave Organization to remove yourself.")
    _drop(session, target, organization_id)
    # not let straight back in by an automatic join by company domain (SPEC §16)
    company_domains.no_rejoin(
        session, organization_id=organization_id, user_id=target_user.id, removed=True
    )
    mark_usage_changed(session, [organization_id])  # members / seats bar
    webhooks.emit(session, organization_id, "member.left", {"user_id": target_user.id, "email": target_user.email, "removed_by": user.email})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.removed",
        summary=f"Removed {target_user.email}",
    )


def transfer_ownership(
    session: Session, *, user: User, organization_id: int, member_id: int
) -> None:
    """The new owner takes over; the old owner becomes Admin. Exactly one Owner throughout."""
    _, own = require(session, user, organization_id, Permission.TRANSFER_OWNERSHIP)
    target, target_user = _member(session, organization_id, member_id)
    if target_user.id == user.id:
        raise Conflict("You already own this organization.")
    own.role = Role.ADMIN
    target.role = Role.OWNER
    session.add_all([own, target])
    mark_access_changed(session, [organization_id])
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.ownership_transferred",
        summary=f"Transferred ownership from {user.email} to {target_user.email}",
    )


def leave(session: Session, *, user: User, organization_id: int) -> None:
    _, own = require(session, user, organization_id, Permission.VIEW)
    if own.role == Role.OWNER:
        raise Conflict("Transfer ownership to another member before leaving.")
    _drop(session, own, organization_id)
    company_domains.no_rejoin(  # who left is not asked to join again (SPEC §16)
        session, organization_id=organization_id, user_id=user.id, removed=False
    )
    mark_usage_changed(session, [organization_id])  # members / seats bar
    webhooks.emit(session, organization_id, "member.left", {"user_id": user.id, "email": user.email, "removed_by": None})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="member.left",
        summary=f"{user.email} left the organization",
    )


def end_membership(session: Session, *, organization_id: int, user_id: int) -> bool:
    """Remove a membership for a rule that already decided it must go (SCIM deprovisioning,
    SPEC §16): the same effects as Remove, without an acting member. False when there was
    none. The caller refuses the Owner and writes the audit entry."""
    membership = session.exec(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    ).first()
    if membership is None:
        return False
    _drop(session, membership, organization_id)
    mark_usage_changed(session, [organization_id])  # members / seats bar
    return True


def _member(session: Session, organization_id: int, user_id: int) -> tuple[Membership, User]:
    row = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("Member not found.")
    return row


def _drop(session: Session, membership: Membership, organization_id: int) -> None:
    """Remove the membership; the user's sessions in that workspace fall back to Personal."""
    session.exec(
        update(UserSession)
        .where(col(UserSession.user_id) == membership.user_id)
        .where(col(UserSession.active_org_id) == organization_id)
        .values(active_org_id=None)
    )
    session.delete(membership)
    mark_access_changed(session, [organization_id])  # its API keys lose access at once
    session.flush()
    usage_counters.resync(session, [membership.user_id])  # stops drawing on its plan
