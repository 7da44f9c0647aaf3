"""Seat accounting for invites: used = members + pending (not expired) invites (SPEC §5)."""

from sqlmodel import Session, col, func, select, update

from orgportal.models import Invite, InviteStatus, Membership, Organization
from orgportal.models.base import utcnow
from orgportal.services import plans
from orgportal.services.errors import NoSeatsAvailable
from orgportal.wording import count


def lock_organization(session: Session, organization_id: int) -> None:
    """Serialize seat-changing transactions of one organization.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (whose
    driver opens the transaction at the first write), so the count that follows cannot
    be raced by another invite or accept of the same organization.
    """
    session.exec(
        update(Organization)
        .where(col(Organization.id) == organization_id)
        .values(updated_at=Organization.updated_at)
    )


def seats_used(
    session: Session, organization_id: int, *, excluding_invite: int | None = None
) -> int:
    members = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id)
    ).one()
    pending = (
        select(func.count())
        .select_from(Invite)
        .where(
            Invite.organization_id == organization_id,
            Invite.status == InviteStatus.PENDING,
            Invite.expires_at > utcnow(),
        )
    )
    if excluding_invite is not None:
        pending = pending.where(Invite.id != excluding_invite)
    return members + session.exec(pending).one()


def require_free_seat(
    session: Session, organization: Organization, *, excluding_invite: int | None = None
) -> None:
    """Call after lock_organization: refuses when one more seat would pass the limit."""
    limit = plans.seat_limit(session, organization)
    if limit is None:
        return
    if seats_used(session, organization.id, excluding_invite=excluding_invite) + 1 > limit:
        raise NoSeatsAvailable(limit, limit_source(session, organization, limit))


def limit_source(session: Session, organization: Organization, limit: int) -> str:
    """Where the seat limit comes from, as `plans.seat_limit` decides it: the seats of the
    support subscription when there is one, else the organization plan's member limit."""
    if plans.active_subscription(session, organization.id, "support"):
        return f"your support subscription has {count(limit, 'seat')}"
    plan = plans.organization_plan(session, organization)
    return f"the {plan.name} plan allows {count(limit, 'member')}"
