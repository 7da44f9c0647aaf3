"""One entry of a card's list (a domain, an endpoint): its lines stacked, a rule above it,
and a named group, so a screen reader says whose buttons follow ("Domain go.acme.com")."""

import reflex as rx


def row_group(*lines: rx.Component, label: rx.Var | str) -> rx.Component:
    return rx.box(
        rx.vstack(*lines, spacing="2", width="100%"),
        width="100%",
        padding_y="0.75em",
        border_top="1px solid var(--gray-a5)",
        role="group",
        aria_label=label,
    )
