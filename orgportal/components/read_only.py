"""What a role may not do, said where the control would be: the services decide
(`AppState.caps`), the page shows the control, or one line saying who can help."""

import reflex as rx

from orgportal.state.base import AppState


def read_only_note(*text: str | rx.Var, note_id: str | None = None) -> rx.Component:
    """One line in place of a control the viewer's role cannot use ("Ask an Admin to …")."""
    return rx.callout(
        rx.text(*text),
        icon="info",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
        id=note_id,
        class_name="read-only-note",
    )


def if_allowed(capability: rx.Var, control: rx.Component, note: rx.Component) -> rx.Component:
    """`control` for a viewer with `capability`, `note` for others: only once the page has
    loaded (until then the capabilities are all off, and the note would flash for all)."""
    return rx.cond(AppState.page_ready, rx.cond(capability, control, note))
