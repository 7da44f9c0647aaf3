"""The plans side by side, and what changing plan would change (SPEC §6).

The Billing page shows both before anyone pays or switches: the pricing table comes from the
plan definitions (`plans.py`) and the summary from those and the organization's usage now, so
the page never promises a limit the code does not enforce, nor hides what a downgrade leaves
over its limits.
"""

from dataclasses import dataclass

from sqlmodel import Session

from orgportal.config import settings
from orgportal.models import Organization, OrganizationSecurity, User
from orgportal.services import plans, scim_tokens, seats, usage
from orgportal.services.permissions import Permission, require
from orgportal.services.plans import Plan
from orgportal.wording import count

SECURITY_LABEL = "Require two-factor sign-in, IP allowlist"
IDENTITY_LABEL = "Company domains, single sign-on (SAML/OIDC), SCIM"
NOT_INCLUDED = "—"
BILLED = {"monthly": "monthly", "annual": "annually"}


@dataclass(frozen=True)
class PricingRow:
    label: str
    values: tuple[str, ...]  # one per plan of `plans.ALL`


@dataclass(frozen=True)
class Standing:
    """The organization now, as far as a plan change matters."""

    plan: Plan
    interval: str  # "" without an active plan subscription
    links: int
    storage_bytes: int
    seats_used: int  # members + pending invites
    support_seats: int | None  # set the member limit when bought
    domains: int
    security_enforced: bool  # require two-factor sign-in or an IP allowlist is on
    scim_connected: bool = False  # a SCIM token works (SPEC §16)

    @property
    def subscribed(self) -> bool:
        return self.interval != ""


@dataclass(frozen=True)
class PlanChange:
    """What choosing `plan_key` billed `interval` does, in the product's words."""

    plan_key: str
    interval: str
    kind: str  # "upgrade", "downgrade", "interval" (same plan, other billing) or "current"
    headline: str  # "Upgrading to Professional"
    changes: tuple[str, ...]  # "Links: 500 → 10,000"
    stops: tuple[str, ...]  # what a downgrade leaves over a limit, or turns off
    billing: str  # "Billed £19.99 monthly."


# --- the pricing table -------------------------------------------------------------------------


def _number(value: int | None) -> str:
    return "Unlimited" if value is None else f"{value:,}"


def _storage(value: int | None) -> str:
    return "Unlimited" if value is None else usage.human_bytes(value)


def _domains(value: int | None) -> str:
    return NOT_INCLUDED if value == 0 else _number(value)


def _price(plan: Plan, interval: str) -> str:
    """The row names the interval: "£19.99" a month, "£199.90" a year."""
    pence = plan.price_pence(interval)
    return plans.pounds(pence) if pence else "£0"


def _annual(plan: Plan) -> str:
    saving = plan.annual_saving_pence
    price = _price(plan, "annual")
    return f"{price} (save {plans.pounds(saving)})" if saving else price


def pricing_table() -> list[PricingRow]:
    """Every plan's limits, features and prices, as the Billing page compares them."""
    every = plans.ALL
    seat = plans.pounds(settings.seat_price_pence)
    return [
        PricingRow("Links", tuple(_number(p.links) for p in every)),
        PricingRow("Storage", tuple(_storage(p.storage_bytes) for p in every)),
        PricingRow("Members", tuple(_number(p.members) for p in every)),
        PricingRow("Custom domains", tuple(_domains(p.domains) for p in every)),
        PricingRow(
            SECURITY_LABEL,
            tuple("Included" if plans.SECURITY in p.features else NOT_INCLUDED for p in every),
        ),
        # the support subscription is an add-on to any plan (SPEC §5)
        PricingRow(
            f"Support desk: ticket prefix, departments (add-on, {seat} per seat a month)",
            tuple("Available" for _ in every),
        ),
        # SPEC §16: enterprise identity comes with the plans that have plans.IDENTITY
        PricingRow(
            IDENTITY_LABEL,
            tuple("Included" if plans.IDENTITY in p.features else NOT_INCLUDED for p in every),
        ),
        PricingRow("Price per month, billed monthly", tuple(_price(p, "monthly") for p in every)),
        PricingRow("Price per year, billed annually", tuple(_annual(p) for p in every)),
    ]


# --- what a change does -----------------------------------------------------------------------


def standing(session: Session, organization: Organization) -> Standing:
    view = usage.read_organization_usage(session, organization)
    subscription = plans.active_subscription(session, organization.id, "plan")
    limit = seats.member_limit(session, organization)
    security = session.get(OrganizationSecurity, organization.id)
    return Standing(
        plan=view.plan,
        interval=subscription.interval if subscription else "",
        links=view.usage.links,
        storage_bytes=view.usage.storage_bytes,
        seats_used=view.members,
        support_seats=limit.support_seats,
        domains=view.custom_domains,
        security_enforced=bool(
            security and (security.require_two_factor or security.ip_allowlist.strip())
        ),
        scim_connected=scim_tokens.is_connected(session, organization.id),
    )


def standing_to_buy(session: Session, *, user: User, organization_id: int) -> Standing:
    """The organization now, for who may buy (Owner, Billing Admin): what `summarize` says
    any plan change from, when the Billing page shows the one chosen."""
    organization, _ = require(session, user, organization_id, Permission.MANAGE_BILLING)
    return standing(session, organization)


def summarize(now: Standing, plan_key: str, interval: str) -> PlanChange:
    target = plans.PLANS[plan_key]
    step = plans.RANK[plan_key] - plans.RANK[now.plan.key]
    if step == 0 and interval == now.interval:
        kind, headline = "current", f"You are on the {target.name} plan, billed {BILLED[interval]}."
    elif step == 0:
        kind, headline = "interval", f"Switching {target.name} to {interval} billing"
    elif step > 0:
        kind, headline = "upgrade", f"Upgrading to {target.name}"
    else:
        kind, headline = "downgrade", f"Downgrading to {target.name}"
    changes = _limit_changes(now, target) if step else ()
    return PlanChange(
        plan_key=plan_key,
        interval=interval,
        kind=kind,
        headline=headline,
        changes=changes,
        stops=_over_limits(now, target) if step < 0 else (),
        billing="" if kind == "current" else _billing(now, target, interval),
    )


def _limit_changes(now: Standing, target: Plan) -> tuple[str, ...]:
    old = now.plan
    lines = []
    for label, before, after, fmt in (
        ("Links", old.links, target.links, _number),
        ("Storage", old.storage_bytes, target.storage_bytes, _storage),
    ):
        if before != after:
            lines.append(f"{label}: {fmt(before)} → {fmt(after)}")
    if now.support_seats is not None:
        seats_ = count(now.support_seats, "support seat")
        lines.append(f"Members: still limited by your {seats_}")
    elif old.members != target.members:
        lines.append(f"Members: {_number(old.members)} → {_number(target.members)}")
    if old.domains != target.domains:
        lines.append(f"Custom domains: {_number(old.domains)} → {_number(target.domains)}")
    had, has = plans.SECURITY in old.features, plans.SECURITY in target.features
    if had != has:
        lines.append(f"{SECURITY_LABEL}: {'included' if has else 'not included'}")
    had, has = plans.IDENTITY in old.features, plans.IDENTITY in target.features
    if had != has:
        lines.append(f"{IDENTITY_LABEL}: {'included' if has else 'not included'}")
    return tuple(lines)


def _over_limits(now: Standing, target: Plan) -> tuple[str, ...]:
    """What a downgrade leaves over the new plan's limits (nothing is deleted) or turns off."""
    name = target.name
    stops = []
    if target.links is not None and now.links > target.links:
        stops.append(
            f"You have {count(now.links, 'link')}, more than {name}'s {target.links:,}: they "
            "keep working, but new links are refused until you are under the limit."
        )
    if target.storage_bytes is not None and now.storage_bytes > target.storage_bytes:
        stops.append(
            f"You use {usage.human_bytes(now.storage_bytes)} of storage, more than {name}'s "
            f"{usage.human_bytes(target.storage_bytes)}: your files stay, but uploads are "
            "refused until you are under the limit."
        )
    members = target.members
    if now.support_seats is None and members is not None and now.seats_used > members:
        stops.append(
            f"You have {count(now.seats_used, 'member')} and pending invites together, more "
            f"than {name}'s {target.members}: nobody is removed, but no one new can be invited "
            "until you are under the limit."
        )
    if target.domains is not None and now.domains > target.domains:
        stops.append(
            f"You have {count(now.domains, 'custom domain')}, more than {name}'s "
            f"{target.domains}: no domain can be added until you are under the limit."
        )
    if now.security_enforced and plans.SECURITY not in target.features:
        stops.append(
            "Require two-factor sign-in and the IP allowlist stop being enforced (your settings "
            "are kept for when you upgrade again)."
        )
    if now.scim_connected and plans.IDENTITY not in target.features:
        stops.append(
            "SCIM provisioning stops: your identity provider's token is refused until you "
            "return to a plan with it (members stay as they are)."
        )
    return tuple(stops)


def _billing(now: Standing, target: Plan, interval: str) -> str:
    price = plans.pounds(target.price_pence(interval))
    line = f"Billed {price} {BILLED[interval]}"
    if interval == "annual" and target.annual_saving_pence:
        line += f", saving {plans.pounds(target.annual_saving_pence)} a year over monthly billing"
    if now.subscribed:
        return line + " from now on; the difference is prorated on the next invoice."
    return line + "."
