"""The Passkeys card of /account → Sign-in & security (SPEC §13, §16)."""

import reflex as rx

from orgportal import styles
from orgportal.components.confirm import action_button, cancel_button
from orgportal.components.forms import field_error, text_field
from orgportal.state.passkeys import PasskeyItem
from orgportal.state.passkeys import PasskeyState as S

REMOVE_FORM = "remove-passkey-form"


def _password_or_code(errors, password: str, code: str) -> rx.Component:
    """Who you are, again: the password, or a current code when an app is set up."""
    return rx.hstack(
        text_field(
            "Password to confirm", password, errors, type="password", auto_complete="current-password"
        ),
        rx.cond(
            S.has_code,
            text_field(
                "Or an authenticator code", code, errors,
                auto_complete="one-time-code", input_mode="numeric",
            ),
        ),
        width="100%",
    )  # fmt: skip


def _add_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field_error(S.errors, "passkey_form"),
            text_field(
                "Name of the passkey", "passkey_name", S.errors,
                placeholder="Work laptop", required=True, max_length=60,
            ),
            _password_or_code(S.errors, "passkey_password", "passkey_code"),
            rx.button("Add a passkey", type="submit", loading=S.waiting),
            rx.cond(
                S.waiting,
                rx.text("Follow your browser's prompt to create the passkey.", size="2",
                        role="status"),
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=S.begin_add,
        key=S.form_key,
        width="100%",
        aria_label="Add a passkey",
    )  # fmt: skip


def _row(row: PasskeyItem) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.name),
        rx.table.cell(row.created),
        rx.table.cell(row.last_used),
        rx.table.cell(
            rx.button(
                "Remove", size="1", variant="soft", color_scheme="red",
                aria_label="Remove passkey " + row.name,
                on_click=S.ask_remove(row.id, row.name),
            ),
        ),
        aria_label="Passkey " + row.name,
    )  # fmt: skip


def _table() -> rx.Component:
    headers = ("Name", "Created", "Last used", "Actions")
    return rx.cond(
        S.rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(S.rows, _row)),
            **styles.table(headers),
        ),
        rx.text("No passkeys yet.", color_scheme="gray", size="2"),
    )


def _remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove passkey"),
            rx.alert_dialog.description(
                "The passkey ", rx.text.strong(S.removing_name), " will no longer sign you in. "
                "Enter your password to confirm.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    _password_or_code(S.remove_errors, "remove_password", "remove_code"),
                    spacing="2",
                    margin_top="1em",
                ),
                id=REMOVE_FORM,
                on_submit=S.remove,
                aria_label="Remove passkey",
            ),
            rx.hstack(
                cancel_button(),
                action_button("Remove passkey", type="submit", custom_attrs={"form": REMOVE_FORM}),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            max_width="30em",
        ),
        open=S.removing_id != 0,
        on_open_change=S.close_remove,
    )  # fmt: skip


def passkeys_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Passkeys", size="4"),
            rx.text(
                "A passkey signs you in with your device's screen lock or a security key, "
                "without your password, and counts as a second step after it. Organizations "
                "that require two-factor sign-in accept it.",
                size="2",
            ),
            _table(),
            _add_form(),
            _remove_dialog(),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )
