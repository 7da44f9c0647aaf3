"""/login, /register and /confirm/{token}."""

import reflex as rx

from orgportal import routes
from orgportal.components.forms import form_error, text_field
from orgportal.components.layout import centered_card
from orgportal.components.prefetch import prefetch_page
from orgportal.state.auth import ConfirmState, LoginState, RegisterState
from orgportal.state.password_reset import PasswordResetState


def _notice(message: rx.Var) -> rx.Component:
    """A note that is not an error (after a password reset, a deleted account)."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="info", color_scheme="green", role="status", width="100%"),
    )


def login_page() -> rx.Component:
    return rx.fragment(
        rx.cond(LoginState.step == "code", _code_step(), _password_step()),
        # the page a sign-in leads to: its scripts fetched while the password is typed
        prefetch_page(page=LoginState.next_path),
    )


def _code_step() -> rx.Component:
    """The second step of a sign-in with two-factor sign-in on (SPEC §13)."""
    return centered_card(
        rx.heading("Two-factor sign-in", size="6"),
        rx.form(
            rx.vstack(
                form_error(LoginState.error),
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
                    auto_focus=True,
                ),
                rx.button("Verify", type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=LoginState.submit_code,
            reset_on_submit=True,
        ),
        rx.button(
            "Start over", variant="ghost", size="2", on_click=LoginState.start_over, type="button"
        ),
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
        rx.text(
            "No account yet? ",
            rx.link("Create one", href=LoginState.register_href, underline="always"),
            size="2",
        ),
    )


def register_page() -> rx.Component:
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
    return centered_card(
        rx.hstack(rx.icon("mail-check", size=28), rx.heading("Check your inbox", size="6")),
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
        rx.link("Sign in", href=RegisterState.sign_in_href, weight="medium"),
        rx.button(
            "Use a different email",
            variant="ghost",
            size="1",
            on_click=RegisterState.start_over,
        ),
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
        rx.cond(
            ConfirmState.sign_in_first,
            rx.hstack(
                rx.link("Sign in to confirm", href=ConfirmState.sign_in_href, weight="medium"),
                rx.link("Reset the password", href=routes.PASSWORD_RESET, underline="always"),
                align="center",
                spacing="4",
            ),
            rx.link(
                "Continue to your organization", href=routes.ORGANIZATION, underline="always"
            ),
        ),
    )
