"""What the billing cards show: the organization's Plan and Support Subscription cards, and
the "Your plan" card of /account with the plan in effect for the user (SPEC §5, §6)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from orgportal.models import Organization, User
from orgportal.services import plans, seats, usage
from orgportal.services.billing.payer import PLAN, SUPPORT, Payer, latest, payer_for
from orgportal.services.billing.provider import test_mode_on
from orgportal.services.permissions import Permission, require
from orgportal.services.plans import Plan


@dataclass(frozen=True)
class BillingOverview:
    """What the Organization Plan and Support Subscription cards show."""

    plan: Plan
    plan_status: str  # "" on Free
    plan_interval: str
    renews_at: datetime | None
    support_status: str  # "" without a support subscription
    seats_purchased: int
    seats_used: int
    test_mode: bool
    role: str
    member_limit: seats.MemberLimit  # what limits members, said beside the limit

    @property
    def support_active(self) -> bool:
        return self.support_status in plans.ENTITLED_STATUSES

    @property
    def monthly_cost_pence(self) -> int:
        return self.seats_purchased * plans.SEAT_PRICE_PENCE

    @property
    def min_seats(self) -> int:
        return max(1, self.seats_used)


def overview(session: Session, *, user: User, organization_id: int) -> BillingOverview:
    organization, membership = require(session, user, organization_id, Permission.VIEW)
    payer = Payer.organization(organization_id)
    plan_sub = latest(session, payer, PLAN)
    support = latest(session, payer, SUPPORT)
    return BillingOverview(
        plan=plans.organization_plan(session, organization),
        plan_status=plan_sub.status if plan_sub else "",
        plan_interval=plan_sub.interval if plan_sub else "",
        renews_at=plan_sub.current_period_end if plan_sub else None,
        support_status=support.status if support else "",
        seats_purchased=support.quantity if support else 0,
        seats_used=seats.seats_used(session, organization_id),
        test_mode=test_mode_on(),
        role=membership.role,
        member_limit=seats.member_limit(session, organization),
    )


@dataclass(frozen=True)
class PlanSummary:
    """The overview's plan line."""

    name: str
    status: str  # "" on Free


def plan_summary(session: Session, *, user: User, organization_id: int) -> PlanSummary:
    """The plan's name and its subscription's status, as `overview` says them, without the
    Billing page's seats, limits and plan changes: every member's overview reads it on each
    load (two queries after the membership check, against `overview`'s dozen)."""
    organization, _ = require(session, user, organization_id, Permission.VIEW)
    plan_sub = latest(session, Payer.organization(organization_id), PLAN)
    plan = plans.organization_plan(session, organization)
    return PlanSummary(name=plan.name, status=plan_sub.status if plan_sub else "")


def billing_details(session: Session, *, user: User, organization_id: int) -> BillingOverview:
    """`overview` for the REST API's billing read: every member may read it, an organization
    API key only with its "Billing (read)" scope (`Permission.VIEW_BILLING`). The plan's
    tier and status alone are part of the organization's details, open to every key."""
    require(session, user, organization_id, Permission.VIEW_BILLING)
    return overview(session, user=user, organization_id=organization_id)


@dataclass(frozen=True)
class PersonalPlan:
    """What the "Your plan" card of /account shows."""

    plan: Plan  # the effective plan
    source: str  # "Your plan: Professional — from Acme's subscription", … "Your plan: Free"
    status: str  # the personal subscription's status, "" without one
    interval: str
    renews_at: datetime | None
    test_mode: bool

    @property
    def own_active(self) -> bool:
        return self.status in plans.ENTITLED_STATUSES


def effective_plan_source(session: Session, *, user: User) -> str:
    """Which plan is in effect for the user, and why (SPEC §6 effective-plan rule)."""
    source = usage.effective_plans(session, [user.id])[user.id]
    if source.organization_id is not None:
        organization = session.get(Organization, source.organization_id)
        name = organization.name if organization else "your organization"
        return f"Your plan: {source.plan.name} — from {name}'s subscription"
    if source.plan.key != plans.FREE.key:
        return f"Your plan: {source.plan.name} — your own subscription"
    return "Your plan: Free"


def personal_overview(session: Session, *, user: User) -> PersonalPlan:
    own = latest(session, payer_for(session, user, None))
    return PersonalPlan(
        plan=usage.effective_plans(session, [user.id])[user.id].plan,
        source=effective_plan_source(session, user=user),
        status=own.status if own else "",
        interval=own.interval if own else "",
        renews_at=own.current_period_end if own else None,
        test_mode=test_mode_on(),
    )
