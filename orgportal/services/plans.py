"""The plan catalogue of SPEC §6 (limits and prices) and what an organization is entitled to."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from orgportal.config import settings
from orgportal.models import Organization, Subscription
from orgportal.session_memo import remembered

MB = 1024 * 1024
GB = 1024 * MB
INTERVALS = ("monthly", "annual")
ENTITLED_STATUSES = (
    "active",
    "trialing",
    "past_due",
)  # past_due keeps the plan while Stripe retries
SEAT_PRICE_PENCE = settings.seat_price_pence


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    links: int | None  # None: unlimited
    storage_bytes: int | None
    members: int | None
    monthly_pence: int
    annual_pence: int
    # Named features beyond the limits (SECURITY: the organization's Security card)
    features: frozenset[str] = frozenset()
    # Branded short-link domains (SPEC §15); None: unlimited
    domains: int | None = 0

    def price_pence(self, interval: str) -> int:
        """The configured price (PLAN_PRICES_PENCE) or the catalogue's default."""
        default = self.annual_pence if interval == "annual" else self.monthly_pence
        return settings.plan_prices_pence.get(f"{self.key}_{interval}", default)

    @property
    def annual_saving_pence(self) -> int:
        """What a year costs less billed annually than twelve monthly payments (never < 0)."""
        return max(0, 12 * self.price_pence("monthly") - self.price_pence("annual"))


SECURITY = "security"  # require two-factor sign-in, IP allowlist (SPEC §13)
# company domains, single sign-on (SAML/OIDC), SCIM provisioning (SPEC §16)
IDENTITY = "identity"
FREE = Plan("free", "Free", 50, 100 * MB, 3, 0, 0, domains=0)
PAID = (
    Plan("starter", "Starter", 500, 1 * GB, 5, 499, 4990, domains=1),
    Plan("basic", "Basic", 2_000, 5 * GB, 10, 999, 9990, domains=2),
    Plan(
        "professional", "Professional", 10_000, 25 * GB, 25, 1999, 19990, frozenset({SECURITY}),
        domains=5,
    ),
    Plan(
        "unlimited", "Unlimited", None, None, None, 4999, 49990, frozenset({SECURITY, IDENTITY}),
        domains=None,
    ),
)
PLANS = {plan.key: plan for plan in (FREE, *PAID)}
ALL = (FREE, *PAID)  # in the order of the pricing table
RANK = {plan.key: rank for rank, plan in enumerate(ALL)}


def plans_with(feature: str) -> list[Plan]:
    return [plan for plan in PAID if feature in plan.features]


def price_id(plan_key: str, interval: str) -> str:
    return getattr(settings, f"stripe_price_{plan_key}_{interval}")


def seat_price_id() -> str:
    return settings.stripe_price_seat


def describe_price(price: str) -> tuple[str, str, str] | None:
    """(kind, plan_key, interval) of one of our Stripe price ids, or None."""
    if price == seat_price_id():
        return ("support", "", "monthly")
    for plan in PAID:
        for interval in INTERVALS:
            if price_id(plan.key, interval) == price:
                return ("plan", plan.key, interval)
    return None


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def active_subscription(session: Session, organization_id: int, kind: str) -> Subscription | None:
    return remembered(
        session,
        ("subscription", organization_id, kind),
        lambda: session.exec(
            select(Subscription)
            .where(
                Subscription.organization_id == organization_id,
                Subscription.kind == kind,
                col(Subscription.status).in_(ENTITLED_STATUSES),
            )
            .order_by(col(Subscription.updated_at).desc())
        ).first(),
    )


def organization_plan(session: Session, organization: Organization) -> Plan:
    subscription = active_subscription(session, organization.id, "plan")
    return PLANS.get(subscription.plan_key, FREE) if subscription else FREE


def seat_limit(session: Session, organization: Organization) -> int | None:
    """Members plus pending invites allowed: seats purchased with support, else the plan's."""
    support = active_subscription(session, organization.id, "support")
    if support:
        return support.quantity
    return organization_plan(session, organization).members
