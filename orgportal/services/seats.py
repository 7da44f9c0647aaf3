"""Seat accounting for invites: used = members + pending (not expired) invites (SPEC §5).

Support seats, once bought, replace the plan's member limit (Professional's 25 becomes 6
with 6 seats). That surprises people, so the rule is said in one place (`MemberLimit`) and
every page that shows the limit, the Support checkout and the invite refusal use it.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select, update

from orgportal.models import Invite, InviteStatus, Membership, Organization, User
from orgportal.models.base import utcnow
from orgportal.services import plans
from orgportal.services.errors import NoSeatsAvailable, ValidationFailed
from orgportal.services.permissions import Permission, require
from orgportal.wording import count

MAX_SEATS = 1000


@dataclass(frozen=True)
class MemberLimit:
    """How many members (plus pending invites) the organization may have, and why."""

    limit: int | None  # None: no limit
    plan: plans.Plan
    support_seats: int | None  # the seats that set the limit, None when the plan does

    @property
    def reason(self) -> str:
        """The middle of a sentence: "members are limited by your 6 support seats (the
        Professional plan alone allows 25)", or "the Free plan allows 3 members"."""
        plan = self.plan
        if self.support_seats is not None:
            alone = (
                f"allows {plan.members:,}" if plan.members is not None else "has no member limit"
            )
            return (
                f"members are limited by your {count(self.support_seats, 'support seat')} "
                f"(the {plan.name} plan alone {alone})"
            )
        if plan.members is None:
            return f"the {plan.name} plan has no member limit"
        return f"the {plan.name} plan allows {count(plan.members, 'member')}"

    @property
    def sentence(self) -> str:
        """The rule as pages show it beside the limit."""
        return self.reason[0].upper() + self.reason[1:] + "."


def member_limit(session: Session, organization: Organization) -> MemberLimit:
    support = plans.active_subscription(session, organization.id, "support")
    plan = plans.organization_plan(session, organization)
    if support:
        return MemberLimit(support.quantity, plan, support.quantity)
    return MemberLimit(plan.members, plan, None)


def read_member_limit(session: Session, *, user: User, organization_id: int) -> MemberLimit:
    """For the pages that show the limit (overview, Members): any member may read it."""
    organization, _ = require(session, user, organization_id, Permission.VIEW)
    return member_limit(session, organization)


def limit_after_support(quantity: int, plan: plans.Plan) -> str:
    """The Support checkout's summary before paying: the seats become the member limit."""
    said = f"Your member limit becomes {quantity:,}"
    if plan.members == quantity:
        return said + "."
    today = "no limit" if plan.members is None else f"{plan.members:,}"
    return f"{said} (today {today}): support seats replace the {plan.name} plan's member limit."


def seat_count_problem(quantity: int, used: int) -> str:
    """Why a support seat count cannot be bought ("" when it can): at least 1 (the owner's
    seat counts too), never below Seats Used, at most MAX_SEATS. The Support checkout shows
    it beside the stepper as the count changes; the services refuse with it."""
    if quantity < 1:
        return "At least 1 seat: the owner's seat counts too."
    if quantity < used:
        return (
            f"Seats cannot go below {used}: that many are in use (members and pending invites)."
        )
    if quantity > MAX_SEATS:
        return f"At most {MAX_SEATS} seats; contact us for more."
    return ""


def require_seat_count(quantity: int, used: int) -> None:
    problem = seat_count_problem(quantity, used)
    if problem:
        raise ValidationFailed({"seats": problem})


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
        # names where the limit comes from: the support seats, or the plan's member limit
        raise NoSeatsAvailable(limit, member_limit(session, organization).reason)
