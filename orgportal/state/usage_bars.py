"""What the usage bars show, as plain functions of the numbers.

`UsageState`'s computed vars call these, and so does the live push, which sends the bars to
every open page of an organization as one ready-made delta (`frame`, sent by `frames.send`)
instead of a state round trip per page: one definition, so the pushed labels are always the
ones a load shows.
"""

from collections.abc import Callable
from typing import Any

from orgportal.services import usage
from orgportal.services.usage import OrganizationUsage
from orgportal.state import frames

UNLIMITED = -1


def organization_values(view: OrganizationUsage) -> dict[str, int]:
    """The bars' base vars (`UsageState` fields of the same names) for an organization."""
    plan = view.plan
    return {
        "links_used": view.usage.links,
        "links_limit": _or_unlimited(plan.links),
        "storage_used": view.usage.storage_bytes,
        "storage_limit": _or_unlimited(plan.storage_bytes),
        "members_used": view.members,
        "members_limit": _or_unlimited(view.seat_limit),
        "domains_used": view.custom_domains,
        "domains_limit": _or_unlimited(plan.domains),
    }


def count_label(used: int, limit: int) -> str:
    return f"{used:,} / {_limit(limit, lambda n: f'{n:,}')}"


def plain_label(used: int, limit: int) -> str:
    return f"{used} / {_limit(limit, str)}"


def storage_label(used: int, limit: int) -> str:
    return f"{usage.human_bytes(used)} / {_limit(limit, usage.human_bytes)}"


def percent(used: int, limit: int) -> int:
    return usage.percent(used, None if limit == UNLIMITED else limit)


def limit_notice(can_upgrade: bool, links_percent: int, storage_percent: int) -> str:
    """Shown to those who may upgrade the plan (Owner, Billing Admin) only."""
    return usage.limit_notice(links_percent, storage_percent) if can_upgrade else ""


def frame(state_name: str, values: dict[str, int], can_upgrade: bool) -> dict[str, Any]:
    """The delta a page of `state_name` receives for these bars: every base var and every
    computed var that depends on them, under the names the browser's store uses."""
    links_percent = percent(values["links_used"], values["links_limit"])
    storage_percent = percent(values["storage_used"], values["storage_limit"])
    derived = {
        "links_label": count_label(values["links_used"], values["links_limit"]),
        "storage_label": storage_label(values["storage_used"], values["storage_limit"]),
        "members_label": plain_label(values["members_used"], values["members_limit"]),
        "domains_label": plain_label(values["domains_used"], values["domains_limit"]),
        "links_percent": links_percent,
        "storage_percent": storage_percent,
        "members_percent": percent(values["members_used"], values["members_limit"]),
        "domains_percent": percent(values["domains_used"], values["domains_limit"]),
        "limit_notice": limit_notice(can_upgrade, links_percent, storage_percent),
    }
    return frames.delta(state_name, {**values, **derived})


def _or_unlimited(limit: int | None) -> int:
    return UNLIMITED if limit is None else limit


def _limit(value: int, fmt: Callable[[int], str]) -> str:
    return "unlimited" if value == UNLIMITED else fmt(value)
