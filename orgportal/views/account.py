"""The API keys card of /account: create form, the once-shown new key, the key list."""

import reflex as rx

from orgportal import routes, styles
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import text_field
from orgportal.state.account import AccountState as S
from orgportal.state.account import KeyRow


def _create_form() -> rx.Component:
    """A new key outlives this session, so it asks who you are again."""
    return rx.cond(
        S.email_confirmed,
        rx.form(
            rx.vstack(
                text_field(
                    "Key name", "name", S.errors, placeholder="Deploy script", required=True
                ),
                rx.hstack(
                    text_field(
                        "Your password",
                        "key_password",
                        S.errors,
                        type="password",
                        auto_complete="current-password",
                    ),
                    rx.cond(
                        S.has_two_factor,
                        text_field(
                            "Or a two-factor code",
                            "key_code",
                            S.errors,
                            auto_complete="one-time-code",
                            input_mode="numeric",
                        ),
                    ),
                    width="100%",
                ),
                rx.button("Create API key", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.create,
            key=S.form_key,
            width="100%",
        ),
        rx.callout(
            "Confirm your email address to create API keys: a key keeps working after "
            "confirmation, so only a confirmed address gets one.",
            icon="info",
            size="1",
        ),
    )


def _new_key() -> rx.Component:
    return rx.cond(
        S.new_key != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(
                    "Your new key ", rx.text.strong(S.new_key_name),
                    ". Copy it now: it will not be shown again.", size="2",
                ),
                rx.code(S.new_key, id="new-api-key", size="2", word_break="break-all"),
                rx.hstack(
                    rx.button(rx.icon("copy", size=14), "Copy", size="1", on_click=S.copy_new_key),
                    rx.button("Done", size="1", variant="soft", on_click=S.dismiss_new_key),
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="green",
            width="100%",
            role="status",
        ),
    )  # fmt: skip


def _key_row(row: KeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.name),
        rx.table.cell(rx.code(row.prefix)),
        rx.table.cell(row.workspace),
        rx.table.cell(row.created),
        rx.table.cell(row.last_used),
        rx.table.cell(
            confirm_button(
                "Revoke", size="1", variant="soft",
                title="Revoke API key",
                description=(
                    "Programs using the key ", rx.text.strong(row.name), " (", rx.code(row.prefix),
                    ") are refused from now on. A revoked key cannot be restored: "
                    "you would create a new one.",
                ),
                confirm_label="Revoke key",
                on_confirm=S.revoke(row.id),
            ),
        ),
        aria_label="API key " + row.name,
    )  # fmt: skip


def _key_table() -> rx.Component:
    headers = ("Name", "Key", "Workspace", "Created", "Last used", "Actions")
    return rx.cond(
        S.keys.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(S.keys, _key_row)),
            **styles.table(headers),
        ),
        rx.text("No API keys yet.", color_scheme="gray"),
    )


def api_keys_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API keys", size="4"),
            rx.text(
                "A key acts as you, with your roles, in its own workspace: the one active "
                "when you create it. Switch the key's workspace with the REST API (see ",
                rx.link(
                    "the API reference", href=routes.API_DOCS, is_external=True, underline="always"
                ),
                "). Send the key as ",
                rx.code("Authorization: Bearer <key>"),
                ".",
                size="2",
            ),
            _create_form(),
            _new_key(),
            _key_table(),
            width="100%",
        ),
        width="100%",
    )
