"""The plan catalogue of SPEC §6 and the limits it gives an organization."""

from dataclasses import dataclass

from sqlmodel import Session

from orgportal.models import Organization

MB = 1024 * 1024
GB = 1024 * MB


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    links: int | None  # None: unlimited
    storage_bytes: int | None
    members: int | None


FREE = Plan("free", "Free", 50, 100 * MB, 3)
PLANS = {
    plan.key: plan
    for plan in (
        FREE,
        Plan("starter", "Starter", 500, 1 * GB, 5),
        Plan("basic", "Basic", 2_000, 5 * GB, 10),
        Plan("professional", "Professional", 10_000, 25 * GB, 25),
        Plan("unlimited", "Unlimited", None, None, None),
    )
}


def organization_plan(session: Session, organization: Organization) -> Plan:
    """The organization's plan; Free until billing (issue 4) records a subscription."""
    return FREE


def seat_limit(session: Session, organization: Organization) -> int | None:
    """How many members plus pending invites the organization may have (None: no limit)."""
    return organization_plan(session, organization).members
