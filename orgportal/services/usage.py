"""Effective plans and pooled usage (SPEC §6).

A user's effective plan is their personal paid plan if active, else the highest plan of an
organization they belong to that has an active subscription, else Free. An organization's
pool is its workspace items plus the personal items of the members who draw on its plan.

Reading usage is a primary-key lookup on the pool's counter (`usage_counters`),
which every create, delete, join, leave and plan change keeps in its own transaction.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select, update

from orgportal.formatting import human_bytes  # callers still say usage.human_bytes
from orgportal.models import (
    Membership,
    Organization,
    User,
)
from orgportal.services import (
    custom_domains,
    notifications,
    plans,
    seats,
    usage_counters,
    webhooks,
)
from orgportal.services.effective_plans import effective_plans
from orgportal.services.errors import Conflict
from orgportal.services.permissions import Permission, require
from orgportal.services.plans import Plan


@dataclass(frozen=True)
class Pool:
    """Whose limits apply: an organization's pool or one user's personal pool."""

    plan: Plan
    organization_id: int | None
    user_id: int | None


@dataclass(frozen=True)
class Usage:
    links: int
    storage_bytes: int


@dataclass(frozen=True)
class OrganizationUsage:
    plan: Plan
    usage: Usage
    members: int  # seats used: members + pending invites
    seat_limit: int | None
    custom_domains: int = 0  # branded short-link domains (SPEC §15), against plan.domains


class LimitReached(Conflict):
    def __init__(self, what: str, limit: str, plan: Plan):
        super().__init__(f"{what} limit reached: the {plan.name} plan allows {limit}.")


def pool_for(session: Session, *, user: User, organization_id: int | None) -> Pool:
    """The pool a new item in this workspace counts against."""
    if organization_id is not None:
        organization = session.get(Organization, organization_id)
        return Pool(plans.organization_plan(session, organization), organization_id, None)
    source = effective_plans(session, [user.id])[user.id]
    if source.organization_id is not None:
        return Pool(source.plan, source.organization_id, None)
    return Pool(source.plan, None, user.id)


def pool_usage(session: Session, pool: Pool) -> Usage:
    """One primary-key lookup: the pool's counter (`usage_counters`), whatever its size."""
    if pool.organization_id is not None:
        totals = usage_counters.organization_totals(session, pool.organization_id)
    else:
        totals = usage_counters.personal_totals(session, pool.user_id)
    return Usage(totals.links, totals.storage_bytes)


def reserve(session: Session, pool: Pool, *, links: int = 0, storage_bytes: int = 0) -> None:
    """Lock the pool, then refuse if the new item would pass a limit (call before inserting).

    The lock (organization row, or the user row for a personal pool) makes two members
    racing for the last slot take turns, so the second one sees the first one's item.
    """
    if pool.organization_id is not None:
        seats.lock_organization(session, pool.organization_id)
    else:
        session.exec(update(User).where(col(User.id) == pool.user_id).values(id=User.id))
    used = pool_usage(session, pool)
    plan = pool.plan
    if links and plan.links is not None and used.links + links > plan.links:
        raise LimitReached("Link", f"{plan.links:,} links", plan)
    storage_limit = plan.storage_bytes
    if (
        storage_bytes
        and storage_limit is not None
        and used.storage_bytes + storage_bytes > storage_limit
    ):
        raise LimitReached("Storage", human_bytes(storage_limit), plan)
    notifications.usage_grew(session, pool.organization_id, plan, used, links, storage_bytes)
    _emit_thresholds(session, pool, used, links=links, storage_bytes=storage_bytes)


def organization_usage(session: Session, *, user: User, organization_id: int) -> OrganizationUsage:
    organization, _ = require(session, user, organization_id, Permission.VIEW)
    return read_organization_usage(session, organization)


def read_organization_usage(session: Session, organization: Organization) -> OrganizationUsage:
    """Usage without a permission check: for the live push, which already knows the viewers."""
    plan = plans.organization_plan(session, organization)
    pool = Pool(plan, organization.id, None)
    return OrganizationUsage(
        plan=plan,
        usage=pool_usage(session, pool),
        members=seats.seats_used(session, organization.id),
        seat_limit=plans.seat_limit(session, organization),
        custom_domains=custom_domains.domain_count(session, organization.id),
    )


def usage_for_watchers(
    session: Session, organization_id: int
) -> tuple[OrganizationUsage | None, set[int]]:
    """For the live push: the usage, and who may still see it (the current members)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        return None, set()
    members = set(
        session.exec(
            select(Membership.user_id).where(Membership.organization_id == organization_id)
        )
    )
    return read_organization_usage(session, organization), members


def affected_organizations(
    session: Session, *, owner_id: int, organization_id: int | None
) -> list[int]:
    """Organizations whose bars move when this owner's item in this workspace changes."""
    if organization_id is not None:
        return [organization_id]
    source = effective_plans(session, [owner_id])[owner_id]
    return [source.organization_id] if source.organization_id is not None else []


def percent(used: int, limit: int | None) -> int:
    """How full a bar is, 0–100; an unlimited bar is never full."""
    if limit is None or limit <= 0:
        return 0
    return min(100, round(100 * used / limit))


def limit_notice(links_percent: int, storage_percent: int) -> str:
    """What an Owner is told at 80 % and at 100 % of a limit ("" below that)."""
    worst, what = max((links_percent, "links"), (storage_percent, "storage"))
    if worst >= 100:
        return f"You have reached your {what} limit: upgrade the plan to add more."
    if worst >= 80:
        return f"You have used {worst} % of your {what} limit."
    return ""


def in_workspace(model, user: User, organization_id: int | None) -> ColumnElement[bool]:
    """Items of one workspace: an organization's, or the user's personal ones."""
    if organization_id is None:
        return and_(col(model.organization_id).is_(None), model.owner_id == user.id)
    return model.organization_id == organization_id


THRESHOLDS = (80, 100)  # percent of a limit that a `usage.threshold` webhook announces


def crossed(before: int, after: int, limit: int | None) -> int | None:
    """The highest of THRESHOLDS that going from `before` to `after` reaches, or None."""
    if limit is None or limit <= 0:
        return None
    hit = [t for t in THRESHOLDS if before * 100 < t * limit <= after * 100]
    return hit[-1] if hit else None


def _emit_thresholds(
    session: Session, pool: Pool, used: Usage, *, links: int, storage_bytes: int
) -> None:
    """An organization pool passing 80 % or 100 % of its links or storage limit: the
    `usage.threshold` webhook (SPEC §17), in the transaction of the item that passed it."""
    if pool.organization_id is None:
        return
    plan = pool.plan
    for what, before, added, limit in (
        ("links", used.links, links, plan.links),
        ("storage", used.storage_bytes, storage_bytes, plan.storage_bytes),
    ):
        threshold = crossed(before, before + added, limit) if added else None
        if threshold is not None:
            data = {"metric": what, "threshold": threshold, "used": before + added, "limit": limit}
            webhooks.emit(session, pool.organization_id, "usage.threshold", data)
