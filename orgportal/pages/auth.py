"""/login, /register and /confirm/{token}."""

import reflex as rx

from orgportal import routes
from orgportal.components.forms import form_error, text_field
from orgportal.components.layout import centered_card
from orgportal.state.auth import ConfirmState, LoginState, RegisterState


def login_page() -> rx.Component:
    return centered_card(
        rx.heading("Sign in", size="6"),
        rx.form(
            rx.vstack(
                form_error(LoginState.error),
                text_field("Email", "email", type="email", auto_complete="email", required=True),
                text_field(
                    "Password",
                    "password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                rx.button("Sign in", type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=LoginState.submit,
        ),
        rx.text("No account yet? ", rx.link("Create one", href=LoginState.register_href), size="2"),
    )


def register_page() -> rx.Component:
    errors = RegisterState.errors
    return centered_card(
        rx.heading("Create your account", size="6"),
        rx.form(
            rx.vstack(
                rx.hstack(
                    text_field("First name", "first_name", errors, required=True),
                    text_field("Last name", "last_name", errors, required=True),
                    width="100%",
                ),
                text_field(
                    "Email", "email", errors, type="email", auto_complete="email", required=True
                ),
                text_field(
                    "Password",
                    "password",
                    errors,
                    type="password",
                    auto_complete="new-password",
                    required=True,
                    placeholder="At least 10 characters",
                ),
                rx.button("Create account", type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=RegisterState.submit,
        ),
        rx.text("Already registered? ", rx.link("Sign in", href=routes.LOGIN), size="2"),
    )


def confirm_page() -> rx.Component:
    return centered_card(
        rx.heading("Email confirmation", size="6"),
        rx.cond(
            ConfirmState.message == "",
            rx.spinner(),
            rx.callout(
                ConfirmState.message,
                icon=rx.cond(ConfirmState.ok, "check", "x"),
                color_scheme=rx.cond(ConfirmState.ok, "green", "red"),
            ),
        ),
        rx.link("Continue to your organization", href=routes.ORGANIZATION),
    )
