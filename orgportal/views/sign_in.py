"""The sign-in card of /login: the password, then (with two-factor sign-in on) the code."""

import reflex as rx

from orgportal import routes
from orgportal.components.forms import form_error, text_field
from orgportal.components.layout import centered_card
from orgportal.state.auth import LoginState
from orgportal.state.password_reset import PasswordResetState


def sign_in_card() -> rx.Component:
    return rx.cond(LoginState.step == "code", _code_step(), _password_step())


def _notice(message: rx.Var) -> rx.Component:
    """A note that is not an error (after a password reset, a deleted account)."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="info", color_scheme="green", role="status", width="100%"),
    )


def _code_step() -> rx.Component:
    """The second step of a sign-in with two-factor sign-in on (SPEC §13): a code from the
    authenticator app, or a passkey (SPEC §16), whichever the account has."""
    return centered_card(
        rx.heading("Two-factor sign-in", size="6"),
        form_error(LoginState.error),
        rx.cond(
            LoginState.step_passkey,
            rx.vstack(
                rx.text("Use your passkey to finish signing in.", size="2"),
                _passkey_button("Use your passkey", LoginState.use_passkey),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            LoginState.step_code,
            rx.form(
                rx.vstack(
                    rx.text(
                        "Enter the 6-digit code from your authenticator app, or one of your "
                        "recovery codes.",
                        size="2",
                    ),
                    text_field(
                        "Authentication code",
                        "code",
                        auto_complete="one-time-code",
                        required=True,
                        auto_focus=~LoginState.step_passkey,
                    ),
                    rx.button("Verify", type="submit", width="100%"),
                    spacing="3",
                ),
                on_submit=LoginState.submit_code,
                reset_on_submit=True,
                width="100%",
            ),
        ),
        rx.button(
            "Start over", variant="ghost", size="2", on_click=LoginState.start_over, type="button"
        ),
    )


def _passkey_button(label: str, on_click) -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("fingerprint", size=16),
            label,
            type="button",
            variant="outline",
            width="100%",
            loading=LoginState.passkey_waiting,
            on_click=on_click,
        ),
        rx.cond(
            LoginState.passkey_waiting,
            rx.text("Follow your browser's prompt.", size="1", role="status"),
        ),
        spacing="1",
        width="100%",
    )


def _password_step() -> rx.Component:
    return centered_card(
        rx.heading("Sign in", size="6"),
        rx.form(
            rx.vstack(
                form_error(LoginState.retry_notice),
                _notice(PasswordResetState.login_notice),
                form_error(LoginState.error),
                text_field(
                    "Email",
                    "email",
                    type="email",
                    auto_complete="email",
                    required=True,
                    default_value=LoginState.prefill_email,
                    # mounted again once the address from the link is known (uncontrolled)
                    key=LoginState.prefill_email,
                ),
                text_field(
                    "Password",
                    "password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                rx.button("Sign in", type="submit", width="100%"),
                rx.link(
                    "Forgot password?", href=routes.PASSWORD_RESET, underline="always", size="2"
                ),
                spacing="3",
            ),
            on_submit=LoginState.submit,
        ),
        rx.separator(size="4"),
        _passkey_button("Sign in with a passkey", LoginState.sign_in_with_passkey),
        rx.text(
            "No account yet? ",
            rx.link("Create one", href=LoginState.register_href, underline="always"),
            size="2",
        ),
    )
