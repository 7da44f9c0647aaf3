"""The organization's Security card (Settings sub-page, Owner/Admin)."""

import reflex as rx

from orgportal.components.confirm import action_button, confirm_dialog
from orgportal.components.forms import field_error
from orgportal.state.org_security import OrgSecurityState as S


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.checkbox(
                    id="security-require-two-factor",
                    name="require_two_factor",
                    default_checked=S.require_two_factor,
                ),
                rx.el.label(
                    "Require two-factor sign-in",
                    html_for="security-require-two-factor",
                    class_name="rt-Text rt-r-size-2",
                ),
                align="center",
                spacing="2",
            ),
            rx.text(
                "Members without it can still sign in, but are asked to set it up before "
                "they can open this organization or use its API.",
                size="1",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.el.label(
                "IP allowlist",
                html_for="field-ip_allowlist",
                class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
            ),
            rx.text_area(
                id="field-ip_allowlist",
                name="ip_allowlist",
                default_value=S.ip_allowlist,
                placeholder="203.0.113.7\n198.51.100.0/24\n2001:db8::/32",
                rows="4",
                width="100%",
                aria_describedby="ip-allowlist-help",
            ),
            field_error(S.errors, "ip_allowlist"),
            rx.text(
                "IPv4/IPv6 addresses and CIDR ranges, one per line. Empty: every address. "
                "Your address now: ",
                rx.code(S.my_address, id="my-address"),
                id="ip-allowlist-help",
                size="1",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.button("Save Security", type="submit", variant="soft"),
            spacing="2",
            width="100%",
        ),
        key=S.form_key,
        on_submit=S.save,
        reset_on_submit=False,
        aria_label="Security settings",
        width="100%",
    )


def _confirm_own_address() -> rx.Component:
    return rx.alert_dialog.root(
        confirm_dialog(
            "Your address is not on the list",
            S.confirm_message,
            actions=[
                rx.alert_dialog.action(action_button("Save anyway", on_click=S.save_anyway))
            ],
        ),
        open=S.confirm_message != "",
        on_open_change=S.cancel_confirmation,
    )


def security_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Security", size="4"),
            rx.cond(
                S.available,
                rx.fragment(_form(), _confirm_own_address()),
                rx.callout(
                    S.locked_reason,
                    icon="lock",
                    color_scheme="gray",
                    width="100%",
                    id="security-locked",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
