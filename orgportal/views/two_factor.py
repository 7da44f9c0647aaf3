"""The Two-factor sign-in card (on /account and on the "set up to continue" page)."""

import reflex as rx

from orgportal import routes
from orgportal.components.forms import field_error, text_field
from orgportal.state.two_factor import RecoveryCodesNotice
from orgportal.state.two_factor import TwoFactorState as S


def _code_field(name: str, label: str = "Code from your app") -> rx.Component:
    return text_field(
        label, name, S.errors, auto_complete="one-time-code", required=True, max_length=40
    )


def _setup() -> rx.Component:
    return rx.vstack(
        rx.text(
            "1. Scan this QR code with an authenticator app (or enter the key by hand).", size="2"
        ),
        rx.image(
            src=S.setup_qr,
            alt="QR code for your authenticator app",
            width="180px",
            height="180px",
            background="white",
        ),
        rx.text("Key for manual entry:", size="2"),
        rx.code(S.setup_secret, id="two-factor-secret", size="3", word_break="break-all"),
        rx.text("2. Enter the 6-digit code the app shows to finish.", size="2"),
        rx.form(
            rx.hstack(
                _code_field("setup_code"),
                rx.button("Turn on", type="submit"),
                rx.button("Cancel", type="button", variant="soft", on_click=S.cancel_setup),
                align="end",
                width="100%",
                wrap="wrap",
            ),
            on_submit=S.confirm_setup,
            key=S.form_key,
            width="100%",
            aria_label="Confirm two-factor set-up",
        ),
        spacing="2",
        width="100%",
    )


def _new_codes() -> rx.Component:
    return rx.cond(
        S.new_codes.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(
                    "Your recovery codes. Each signs you in once if you lose your app. "
                    "Save them now: they will not be shown again.",
                    size="2",
                ),
                rx.el.ul(
                    rx.foreach(S.new_codes, lambda code: rx.el.li(rx.code(code))),
                    id="recovery-codes",
                    style={"columns": "2", "list_style": "none", "padding": "0"},
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("download", size=14), "Download as text file",
                        size="1", on_click=S.download_codes,
                    ),
                    rx.button("Done", size="1", variant="soft", on_click=S.dismiss_codes),
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="green",
            width="100%",
            role="status",
        ),
    )  # fmt: skip


def _enabled() -> rx.Component:
    return rx.vstack(
        rx.text(
            rx.text.strong("Two-factor sign-in is on. "),
            S.codes_left.to_string(),
            " unused recovery codes left.",
            size="2",
        ),
        rx.form(
            rx.vstack(
                rx.heading("Turn off", size="3"),
                text_field(
                    "Password",
                    "disable_password",
                    S.errors,
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                _code_field("disable_code", "Code from your app or a recovery code"),
                rx.button("Turn off two-factor sign-in", type="submit", color_scheme="red",
                          variant="soft"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.disable,
            key=S.form_key,
            width="100%",
            aria_label="Turn off two-factor sign-in",
        ),
        rx.form(
            rx.vstack(
                rx.heading("New recovery codes", size="3"),
                _code_field("regenerate_code"),
                rx.button("Make new recovery codes", type="submit", variant="soft"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.regenerate,
            key=S.form_key,
            width="100%",
            aria_label="New recovery codes",
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def two_factor_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Two-factor sign-in", size="4"),
            rx.text(
                "After your password, sign-in asks for a code from an authenticator app "
                "on your phone.",
                size="2",
            ),
            _new_codes(),
            rx.cond(
                S.enabled,
                _enabled(),
                rx.cond(
                    S.setup_secret != "",
                    _setup(),
                    rx.vstack(
                        field_error(S.errors, "setup_code"),
                        rx.button("Set up two-factor sign-in", on_click=S.begin_setup),
                    ),
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def recovery_codes_banner() -> rx.Component:
    """On every signed-in page after a sign-in with a recovery code, until dismissed:
    how many are left, and where to make new ones."""
    return rx.cond(
        RecoveryCodesNotice.message != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.hstack(
                rx.text(
                    RecoveryCodesNotice.message,
                    " on the ",
                    rx.link(
                        "Sign-in & security",
                        href=routes.ACCOUNT_SECURITY,
                        underline="always",
                        color="inherit",  # the callout's own high-contrast text colour
                        weight="medium",
                    ),
                    " page.",
                    size="2",
                    id="recovery-codes-notice",
                ),
                rx.button(
                    "Dismiss",
                    size="1",
                    variant="soft",
                    high_contrast=True,
                    on_click=RecoveryCodesNotice.dismiss,
                ),
                align="center",
                justify="between",
                wrap="wrap",
                width="100%",
            ),
            color_scheme="amber",
            high_contrast=True,
            role="status",
            width="100%",
        ),
    )
