"""Effective plans (SPEC §6): a user's personal paid plan if active, else the highest plan
of an organization they belong to that has an active subscription, else Free.

Its own module because both the usage reads (`usage`) and the counters kept on every write
(`usage_counters`) need it; neither imports the other through it."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from orgportal.models import Membership, Subscription
from orgportal.services import plans
from orgportal.services.plans import Plan


@dataclass(frozen=True)
class PlanSource:
    plan: Plan
    organization_id: int | None  # the organization whose plan the user draws on, if any


def effective_plans(session: Session, user_ids: list[int]) -> dict[int, PlanSource]:
    """Every user's effective plan and where it comes from, in two queries for all of them."""
    result = {user_id: PlanSource(plans.FREE, None) for user_id in user_ids}
    if not user_ids:
        return result
    org_plans = session.exec(
        select(Membership.user_id, Subscription.organization_id, Subscription.plan_key)
        .join(Subscription, col(Subscription.organization_id) == Membership.organization_id)
        .where(col(Membership.user_id).in_(user_ids), *_entitled_plan())
        .order_by(col(Subscription.organization_id))
    ).all()
    for user_id, organization_id, plan_key in org_plans:
        plan = plans.PLANS.get(plan_key, plans.FREE)
        if plans.RANK[plan.key] > plans.RANK[result[user_id].plan.key]:
            result[user_id] = PlanSource(plan, organization_id)
    personal = session.exec(
        select(Subscription.user_id, Subscription.plan_key).where(
            col(Subscription.user_id).in_(user_ids), *_entitled_plan()
        )
    ).all()
    for user_id, plan_key in personal:
        result[user_id] = PlanSource(plans.PLANS.get(plan_key, plans.FREE), None)
    return result


def _entitled_plan() -> tuple[ColumnElement[bool], ...]:
    return (
        Subscription.kind == "plan",
        col(Subscription.status).in_(plans.ENTITLED_STATUSES),
    )
