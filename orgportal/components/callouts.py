"""A callout whose look depends on a state var: one callout per look under `rx.cond`.

An icon named by a state var (`icon=State.icon`) makes Reflex import lucide's DynamicIcon,
whose map of every icon (230 KB of JavaScript) the page would then load; two fixed icons
under a condition cost nothing.
"""

from dataclasses import dataclass

import reflex as rx


@dataclass(frozen=True)
class Look:
    icon: str
    color_scheme: str
    role: str | None = None  # "status" or "alert": how a screen reader announces it


GOOD = Look("check", "green", "status")
BAD = Look("x", "red", "alert")


def either_callout(
    condition: rx.Var, message: rx.Var, when_true: Look = GOOD, when_false: Look = BAD, **props
) -> rx.Component:
    """`message` in the `when_true` look while `condition` holds, else in `when_false`'s."""

    def callout(look: Look) -> rx.Component:
        role = {"role": look.role} if look.role else {}
        return rx.callout(
            message, icon=look.icon, color_scheme=look.color_scheme, **role, **props
        )

    return rx.cond(condition, callout(when_true), callout(when_false))
