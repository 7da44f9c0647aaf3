"""The Account page's Notifications section: one checkbox per kind of notification mail."""

import reflex as rx

from orgportal import styles
from orgportal.components.forms import field_error
from orgportal.services.notifications import KINDS, Kind
from orgportal.state.notification_settings import NotificationSettingsState as S


def _kind(kind: Kind) -> rx.Component:
    """A checkbox named by its own <label>, described by the line under it."""
    box_id = f"notify-{kind.key}"
    help_id = f"notify-help-{kind.key}"
    return rx.hstack(
        rx.checkbox(
            id=box_id,
            name=kind.key,
            default_checked=S.enabled[kind.key],
            aria_describedby=help_id,
            margin_top="0.2em",
        ),
        rx.vstack(
            rx.el.label(
                kind.label, html_for=box_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
            ),
            rx.text(kind.description, id=help_id, size="1", color_scheme="gray"),
            spacing="0",
        ),
        align="start",
        spacing="2",
    )


def notifications_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Notifications", size="4"),
            rx.text(
                "Emails about what happens in your organizations. Each one has a link back here.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    field_error(S.errors, "notifications"),
                    *[_kind(kind) for kind in KINDS],
                    rx.button("Save notification settings", type="submit"),
                    spacing="3",
                    width="100%",
                ),
                key=S.form_key,
                aria_label="Notification settings",
                on_submit=S.save,
                reset_on_submit=False,
                max_width=styles.FORM_MAX_WIDTH,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
