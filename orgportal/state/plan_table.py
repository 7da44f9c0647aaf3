"""The Billing page's plan comparison as state data (SPEC §6): the pricing table, which
column is the current plan, and the summary of each plan × interval a buyer may choose.

Plain rows built from `services/plan_changes.py` when sent: `BillingState` keeps only the
plan key and the organization's standing (`plan_changes.Standing`), and says what the chosen
plan and interval would change from that.
"""

import dataclasses

from orgportal.services import plan_changes, plans


@dataclasses.dataclass
class PlanColumn:
    name: str
    current: bool  # the organization's plan now: the table marks it


@dataclasses.dataclass
class PricingRowView:
    label: str
    cells: list[str]  # one per column


@dataclasses.dataclass
class PlanChangeView:
    key: str  # "<plan>_<interval>", as `key_of` makes it
    kind: str  # upgrade, downgrade, interval, current ("" when nothing is chosen)
    headline: str
    changes: list[str]
    stops: list[str]
    billing: str


NO_CHANGE = PlanChangeView("", "", "", [], [], "")


def key_of(plan_key: str, interval: str) -> str:
    return f"{plan_key}_{interval}"


def columns(current_plan_key: str) -> list[PlanColumn]:
    return [PlanColumn(plan.name, plan.key == current_plan_key) for plan in plans.ALL]


def rows() -> list[PricingRowView]:
    return [PricingRowView(row.label, list(row.values)) for row in plan_changes.pricing_table()]


def change(summary: plan_changes.PlanChange) -> PlanChangeView:
    return PlanChangeView(
        key=key_of(summary.plan_key, summary.interval),
        kind=summary.kind,
        headline=summary.headline,
        changes=list(summary.changes),
        stops=list(summary.stops),
        billing=summary.billing,
    )
