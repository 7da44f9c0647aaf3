"""The organization's API keys card (Settings sub-page, Owner/Admin; SPEC §17): the create
form (name, scopes, expiry), the secret shown once, and the keys with Rotate and Revoke."""

import reflex as rx

from orgportal import routes, styles
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import field_error, text_field
from orgportal.components.pager import state_pager
from orgportal.state.organization_keys import OrganizationKeysState as S
from orgportal.state.organization_keys import OrgKeyRow, ScopeOption


def _scope_checkbox(option: ScopeOption) -> rx.Component:
    checkbox_id = "org-key-scope-" + option.code
    return rx.hstack(
        rx.checkbox(id=checkbox_id, name="scope_" + option.code),
        rx.el.label(
            rx.text.strong(option.label), " — ", option.description,
            html_for=checkbox_id, class_name="rt-Text rt-r-size-2",
        ),
        align="center",
        spacing="2",
    )  # fmt: skip


def _proof_fields(password: str, code: str, errors) -> rx.Component:
    """A key outlives this session, so making or rotating one asks who you are again."""
    return rx.hstack(
        text_field(
            "Your password", password, errors, type="password", auto_complete="current-password"
        ),
        rx.cond(
            S.has_two_factor,
            text_field(
                "Or a two-factor code",
                code,
                errors,
                auto_complete="one-time-code",
                input_mode="numeric",
            ),
        ),
        width="100%",
    )


def _create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Create key", size="3", as_="h3"),
            text_field("Key name", "key_name", S.key_errors, placeholder="Zapier", required=True),
            rx.el.fieldset(
                rx.el.legend("Scopes", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                rx.vstack(rx.foreach(S.scope_options, _scope_checkbox), spacing="1"),
                field_error(S.key_errors, "scopes"),
                aria_describedby="org-key-scopes-help",
                style={"border": "none", "padding": "0", "margin": "0"},
            ),
            rx.text(
                "Every scope can read the organization. No key can change the organization's "
                "settings, billing or ownership.",
                id="org-key-scopes-help",
                size="1",
                color_scheme="gray",
                high_contrast=True,
            ),
            text_field(
                "Expires on (optional)",
                "expires_on",
                S.key_errors,
                type="date",
                aria_describedby="org-key-expiry-help",
            ),
            rx.text(
                "The key works through that day (UTC). Leave empty for a key that does not expire.",
                id="org-key-expiry-help",
                size="1",
                color_scheme="gray",
                high_contrast=True,
            ),
            _proof_fields("key_password", "key_code", S.key_errors),
            rx.button("Create key", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.create_key,
        key=S.key_form,
        aria_label="Create organization API key",
        reset_on_submit=False,
        width="100%",
    )


def _new_secret() -> rx.Component:
    return rx.cond(
        S.new_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(
                    "Key ", rx.text.strong(S.new_secret_name), " ", S.new_secret_action,
                    ". Copy it now: it will not be shown again.", size="2",
                ),
                rx.code(S.new_secret, id="new-org-api-key", size="2", word_break="break-all"),
                rx.hstack(
                    rx.button(rx.icon("copy", size=14), "Copy", size="1", on_click=S.copy_secret),
                    rx.button("Done", size="1", variant="soft", on_click=S.dismiss_secret),
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="green",
            width="100%",
            role="status",
        ),
    )  # fmt: skip


def _key_row(row: OrgKeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row.name, weight="medium"), rx.code(row.prefix), spacing="1")),
        rx.table.cell(row.scopes),
        rx.table.cell(row.created),
        rx.table.cell(rx.text(row.expires, color_scheme=rx.cond(row.expired, "red", "gray"),
                              high_contrast=True)),
        rx.table.cell(row.last_used),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Rotate", size="1", variant="soft",
                    aria_label="Rotate " + row.name,
                    on_click=S.ask_rotate(row.id),
                ),
                confirm_button(
                    "Revoke", size="1", variant="soft",
                    aria_label="Revoke " + row.name,
                    title="Revoke API key",
                    description=(
                        "Programs using the key ", rx.text.strong(row.name), " (",
                        rx.code(row.prefix), ") are refused from now on. A revoked key cannot "
                        "be restored: you would create a new one.",
                    ),
                    confirm_label="Revoke key",
                    on_confirm=S.revoke_key(row.id),
                ),
                spacing="2",
            ),
        ),
        aria_label="API key " + row.name,
    )  # fmt: skip


def _rotate_dialog() -> rx.Component:
    """One dialog for the key being rotated: what happens, and the password to confirm."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Rotate API key"),
            rx.alert_dialog.description(
                "The key ", rx.text.strong(S.rotating_name), " gets a new secret, shown once. "
                "Its current secret stops working at once: update the programs that use it.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    _proof_fields("rotate_password", "rotate_code", S.rotate_errors),
                    rx.hstack(
                        rx.alert_dialog.cancel(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Rotate key", type="submit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1em",
                ),
                on_submit=S.rotate_key,
                reset_on_submit=False,
            ),
            max_width="30em",
        ),
        open=S.rotating_id != 0,
        on_open_change=S.rotate_dialog_changed,
    )  # fmt: skip


def _key_table() -> rx.Component:
    headers = ("Name", "Scopes", "Created", "Expires", "Last used", "Actions")
    return rx.cond(
        S.org_keys.length() > 0,
        rx.vstack(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(S.org_keys, _key_row)),
                aria_label="Organization API keys",
                **styles.table(headers),
            ),
            state_pager("API keys", S),
            width="100%",
        ),
        rx.text("No API keys yet.", color_scheme="gray", high_contrast=True),
    )


def organization_keys_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API keys", size="4"),
            rx.text(
                "Keys of the organization for its integrations: they keep working when "
                "members leave, and do only what their scopes allow, in this organization. "
                "Send a key as ",
                rx.code("Authorization: Bearer <key>"),
                " (see ",
                rx.link(
                    "the API reference", href=routes.API_DOCS, is_external=True, underline="always"
                ),
                ").",
                size="2",
            ),
            _new_secret(),
            _key_table(),
            _rotate_dialog(),
            _create_form(),
            width="100%",
            spacing="4",
        ),
        width="100%",
    )
