"""One status badge for every status and role: invites, plans, tickets and roles read and
look alike on every page ("Active", "Past Due", "Pending", "Owner")."""

import reflex as rx

# By the label in lower case, underscores as spaces; anything else is gray.
COLOURS = {
    "green": ("active", "open", "paid", "accepted", "joined", "trialing", "verified"),
    "orange": ("pending", "past due", "incomplete", "unpaid", "pending approval"),
    "red": ("expired", "revoked", "canceled", "cancelled", "failed", "incomplete expired"),
    "blue": ("owner", "admin", "billing admin", "agent", "viewer", "member"),
}


def _plain(text: rx.Var) -> rx.Var:
    return text.to(str).replace("_", " ").lower()


def status_badge(text: str | rx.Var, **props) -> rx.Component:
    """`text` title-cased (`past_due` → "Past Due") in the colour of what it means; `props`
    go to the badge (id, size…)."""
    value = rx.Var.create(text).to(str)
    plain = _plain(value)
    cases = [(*words, colour) for colour, words in COLOURS.items()]
    return rx.badge(
        value.replace("_", " ").title(),
        color_scheme=rx.match(plain, *cases, "gray"),
        variant="soft",
        **props,
    )
