"""The sections of /register (the form, then "check your inbox") and of /confirm/{token}."""

import reflex as rx

from orgportal import routes
from orgportal.components.callouts import Look, either_callout
from orgportal.components.check_inbox import check_inbox_card
from orgportal.components.forms import text_field
from orgportal.components.layout import centered_card
from orgportal.state.auth import ConfirmState, RegisterState


def registration_card() -> rx.Component:
    return rx.cond(RegisterState.sent_to == "", _register_form(), _check_inbox())


def _register_form() -> rx.Component:
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
        rx.text(
            "Already registered? ",
            rx.link("Sign in", href=RegisterState.sign_in_href, underline="always"),
            size="2",
        ),
    )


def _check_inbox() -> rx.Component:
    """The same answer for a new and an already registered address (nothing tells them apart)."""
    return check_inbox_card(
        rx.text(
            "We sent a link to ",
            rx.text.strong(RegisterState.sent_to, id="register-sent-to"),
            " to confirm your email address and continue. It may take a minute to arrive.",
            size="2",
        ),
        rx.text(
            "You can sign in with your password right away; confirming your address "
            "removes the reminder banner.",
            size="2",
            color_scheme="gray",
        ),
        link=rx.link("Sign in", href=RegisterState.sign_in_href, weight="medium"),
        start_over=RegisterState.start_over,
    )


def confirmation_outcome() -> rx.Component:
    return rx.cond(
        ConfirmState.message == "",
        rx.spinner(),
        either_callout(
            ConfirmState.ok,
            ConfirmState.message,
            Look("check", "green"),
            Look("x", "red"),
        ),
    )


def after_confirmation() -> rx.Component:
    """Where to go next: sign in first (in another browser), or on to the organization."""
    return rx.cond(
        ConfirmState.sign_in_first,
        rx.hstack(
            rx.link("Sign in to confirm", href=ConfirmState.sign_in_href, weight="medium"),
            rx.link("Reset the password", href=routes.PASSWORD_RESET, underline="always"),
            align="center",
            spacing="4",
        ),
        rx.link("Continue to your organization", href=routes.ORGANIZATION, underline="always"),
    )
