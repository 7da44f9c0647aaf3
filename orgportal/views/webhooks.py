"""The Webhooks sub-page's cards (SPEC §17): endpoints, their secret shown once, the delivery
log with Resend, and "Send test event". Owner and Admins."""

import reflex as rx

from orgportal import styles
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import field_error, form_error
from orgportal.components.layout import VISUALLY_HIDDEN
from orgportal.components.pager import pager, state_pager
from orgportal.components.rows import row_group
from orgportal.state.base import AppState
from orgportal.state.webhooks import (
    EVENT_CHOICES,
    DeliveryRow,
    EndpointRow,
    EventChoice,
    WebhooksState,
)

S = WebhooksState
LOG_COLUMNS = ("Time", "Event", "Status", "Response", "Attempts", "Payload", "")


def _badge(text: rx.Var) -> rx.Component:
    colour = rx.match(
        text,
        ("delivered", "enabled", "green"),
        ("pending", "retrying", "orange"),
        ("failed", "disabled", "red"),
        "gray",
    )
    return rx.badge(text, color_scheme=colour, variant="soft", high_contrast=True)


def _event_checkbox(choice: EventChoice) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name="event:" + choice.type, id="event-" + choice.type),
        " ",
        choice.label,
        html_for="event-" + choice.type,
        class_name="rt-Text rt-r-size-2",
        style={"display": "flex", "gap": "0.5em", "align_items": "center"},
    )


def _edit_events(row: EndpointRow) -> rx.Component:
    """The endpoint's events as checkboxes (ticked as they are), saved with their own button."""

    def choice_box(choice: EventChoice) -> rx.Component:
        box_id = "event-" + row.id.to_string() + "-" + choice.type
        return rx.el.label(
            rx.el.input(
                type="checkbox",
                name="event:" + choice.type,
                id=box_id,
                default_checked=row.event_list.contains(choice.type),
            ),
            " ",
            choice.label,
            html_for=box_id,
            class_name="rt-Text rt-r-size-2",
            style={"display": "flex", "gap": "0.5em", "align_items": "center"},
        )

    return rx.el.details(
        rx.el.summary("Change events", aria_label="Change events of " + row.url),
        rx.form(
            rx.el.input(type="hidden", name="endpoint_id", default_value=row.id.to_string()),
            rx.el.fieldset(
                rx.el.legend("Events sent to " + row.url, style=VISUALLY_HIDDEN),
                rx.grid(
                    rx.foreach(EVENT_CHOICES, choice_box),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="1",
                ),
                style={"border": "none", "padding": "0", "margin": "0.5em 0"},
            ),
            rx.button(
                "Save events", size="1", type="submit", aria_label="Save events of " + row.url
            ),
            on_submit=S.save_events,
        ),
    )


def _add_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                "Endpoint URL",
                html_for="field-webhook-url",
                class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
            ),
            rx.input(
                id="field-webhook-url",
                name="url",
                placeholder="https://hooks.example.com/orgportal",
                width="min(32em, 100%)",
            ),
            field_error(S.endpoint_errors, "url"),
            rx.el.fieldset(
                rx.el.legend("Events to send", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                rx.grid(
                    rx.foreach(EVENT_CHOICES, _event_checkbox),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="1",
                ),
                style={"border": "none", "padding": "0", "margin": "0"},
            ),
            field_error(S.endpoint_errors, "events"),
            rx.cond(
                S.endpoint_errors.contains("form"), form_error(S.endpoint_errors["form"].to(str))
            ),
            rx.button("Add Endpoint", type="submit"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.add_endpoint,
        key=S.endpoint_key,
        width="100%",
    )


def _secret_once() -> rx.Component:
    return rx.cond(
        S.new_secret != "",
        rx.callout.root(
            rx.vstack(
                rx.text.strong("Signing secret for ", S.new_secret_url),
                rx.text(
                    "Copy it now: it is shown only this once. Your receiver verifies each "
                    "delivery's webhook-signature with it (any Standard Webhooks library).",
                    size="2",
                ),
                rx.hstack(
                    rx.code(S.new_secret, id="webhook-secret", style={"overflow_wrap": "anywhere"}),
                    rx.button(
                        rx.icon("copy", size=14, aria_hidden="true"),
                        "Copy secret",
                        size="1",
                        on_click=[
                            rx.set_clipboard(S.new_secret),
                            rx.toast.success("Secret copied."),
                        ],
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.button("Done", size="1", variant="soft", on_click=S.dismiss_secret),
                spacing="2",
            ),
            color_scheme="green",
            role="status",
            width="100%",
        ),
    )


def _endpoint(row: EndpointRow) -> rx.Component:
    return row_group(
        rx.hstack(
            rx.text(row.url, weight="bold", style={"overflow_wrap": "anywhere"}),
            _badge(row.state),
            rx.text("added ", row.added, size="1", color_scheme="gray", high_contrast=True),
            align="center",
            wrap="wrap",
        ),
        rx.text("Events: ", row.events, size="2"),
        _edit_events(row),
        rx.cond(
            row.disabled_reason != "",
            rx.text(row.disabled_reason, size="2", color_scheme="red", high_contrast=True),
        ),
        rx.hstack(
            rx.button(
                "Delivery log",
                size="1",
                variant="soft",
                on_click=S.show_log(row.id),
                aria_label="Delivery log of " + row.url,
            ),
            rx.button(
                "Send test event",
                size="1",
                on_click=S.send_test(row.id),
                disabled=~row.enabled,
                aria_label="Send test event to " + row.url,
            ),
            rx.cond(
                row.enabled,
                rx.button(
                    "Disable",
                    size="1",
                    variant="soft",
                    on_click=S.set_enabled(row.id, False),
                    aria_label="Disable " + row.url,
                ),
                rx.button(
                    "Enable",
                    size="1",
                    variant="soft",
                    on_click=S.set_enabled(row.id, True),
                    aria_label="Enable " + row.url,
                ),
            ),
            confirm_button(
                "Delete",
                size="1",
                variant="soft",
                aria_label="Delete endpoint " + row.url,
                title="Delete webhook endpoint",
                description=(
                    "Nothing more is sent to ",
                    rx.text.strong(row.url),
                    ", and its delivery log is deleted with it.",
                ),
                confirm_label="Delete endpoint",
                on_confirm=S.delete_endpoint(row.id),
            ),
            spacing="2",
            wrap="wrap",
        ),
        label="Endpoint " + row.url,
    )


def _delivery(row: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.time),
        rx.table.cell(rx.code(row.event_type)),
        rx.table.cell(
            rx.vstack(
                _badge(row.status),
                rx.cond(row.error != "", rx.text(row.error, size="1")),
                spacing="1",
            )
        ),
        rx.table.cell(row.response_code),
        rx.table.cell(row.attempts),
        rx.table.cell(
            rx.el.details(
                rx.el.summary("Payload", aria_label="Payload of " + row.message_id),
                rx.code(row.payload, style={"overflow_wrap": "anywhere", "display": "block"}),
            )
        ),
        rx.table.cell(
            rx.button(
                "Resend",
                size="1",
                variant="soft",
                on_click=S.resend(row.id),
                aria_label="Resend " + row.event_type + " " + row.message_id,
            )
        ),
        aria_label="Delivery " + row.message_id,
    )


def _log() -> rx.Component:
    return rx.cond(
        S.log_endpoint_id != 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Delivery log", size="4"),
                    rx.button("Refresh", size="1", variant="soft", on_click=S.refresh_log),
                    rx.button("Close log", size="1", variant="ghost", on_click=S.hide_log),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(S.log_url, size="2", style={"overflow_wrap": "anywhere"}),
                rx.text(
                    "Each message is delivered at least once: failed attempts are retried for "
                    "about a day, and a receiver may see the same webhook-id twice.",
                    size="1",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                rx.cond(
                    S.log_total == 0,
                    rx.text("Nothing sent yet.", size="2"),
                    rx.table.root(
                        rx.el.caption("Deliveries to ", S.log_url, style=VISUALLY_HIDDEN),
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(
                                        h if h else rx.el.span("Actions", style=VISUALLY_HIDDEN)
                                    )
                                    for h in LOG_COLUMNS
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(S.deliveries, _delivery)),
                        size="1",
                        **styles.table(LOG_COLUMNS),
                    ),
                ),
                pager("deliveries", S.log_page, S.log_page_count, S.go_to_log_page),
                width="100%",
            ),
            width="100%",
            id="delivery-log",
        ),
    )


def webhooks_card() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.heading("Webhooks", size="4", as_="h2"),
                rx.text(
                    "Tell your other tools what happens here: each event is POSTed to your "
                    "endpoints as JSON, signed as the Standard Webhooks specification says "
                    "(webhook-id, webhook-timestamp, webhook-signature). Endpoints must be "
                    "public https addresses.",
                    size="2",
                ),
                _secret_once(),
                _add_form(),
                rx.foreach(S.endpoints, _endpoint),
                state_pager("endpoints", S),
                width="100%",
            ),
            width="100%",
        ),
        _log(),
        width="100%",
    )


def _not_manager() -> rx.Component:
    return rx.callout(
        "The Owner and Admins manage the organization's webhooks.", icon="info", width="100%"
    )


def webhooks_section() -> rx.Component:
    return rx.cond(AppState.caps.edit_organization, webhooks_card(), _not_manager())
