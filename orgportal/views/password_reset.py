"""The sections of /password-reset (ask for a link, then "check your inbox"), of
/password-reset/{token} (choose a new password) and of /account/email/{token} (SPEC §13)."""

import reflex as rx

from orgportal import routes
from orgportal.components.callouts import either_callout
from orgportal.components.check_inbox import check_inbox_card
from orgportal.components.forms import form_error, text_field
from orgportal.components.layout import centered_card
from orgportal.state.password_reset import EmailChangeState, PasswordResetState, ResetLinkState


def reset_request_card() -> rx.Component:
    return rx.cond(PasswordResetState.sent_to == "", _ask_form(), _check_inbox())


def _ask_form() -> rx.Component:
    return centered_card(
        rx.heading("Reset your password", size="6"),
        rx.text(
            "Enter the email address of your account. We send you a link to choose a new "
            "password; it works once, for 1 hour.",
            size="2",
        ),
        rx.form(
            rx.vstack(
                text_field(
                    "Email",
                    "email",
                    PasswordResetState.errors,
                    type="email",
                    auto_complete="email",
                    required=True,
                ),
                rx.button("Send reset link", type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=PasswordResetState.submit,
        ),
        rx.link("Back to sign in", href=routes.LOGIN, underline="always", size="2"),
    )


def _check_inbox() -> rx.Component:
    """The same answer whether or not the address has an account."""
    return check_inbox_card(
        rx.text(
            "If ",
            rx.text.strong(PasswordResetState.sent_to, id="reset-sent-to"),
            " has an orgportal account, we sent it a link to choose a new password. The link "
            "works once, for 1 hour. It may take a minute to arrive.",
            size="2",
        ),
        link=rx.link("Back to sign in", href=routes.LOGIN, weight="medium"),
        start_over=PasswordResetState.start_over,
    )


def new_password_step() -> rx.Component:
    """While the link is checked a spinner; then its refusal, or the new password form."""
    return rx.cond(
        ~ResetLinkState.checked,
        rx.spinner(),
        rx.cond(
            ResetLinkState.link_error != "",
            rx.vstack(
                form_error(ResetLinkState.link_error),
                rx.link(
                    "Ask for a new link",
                    href=routes.PASSWORD_RESET,
                    underline="always",
                    size="2",
                ),
                spacing="3",
                width="100%",
            ),
            _new_password_form(),
        ),
    )


def _new_password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                ResetLinkState.unconfirmed,
                rx.callout(
                    "This account's email address was never confirmed, so we cannot tell "
                    "who created it. Setting a password confirms the address and clears "
                    "everything the account set up before: its links, files, organizations "
                    "and API keys. If you created it and want to keep them, sign in and "
                    "open the confirmation link instead.",
                    icon="triangle_alert",
                    color_scheme="amber",
                    size="1",
                ),
            ),
            rx.text(
                "For ", rx.text.strong(ResetLinkState.email), ". Setting it signs you out "
                "everywhere and revokes your API keys.",
                size="2",
            ),
            # lets password managers save the new password under the right account
            rx.el.input(
                type="email",
                name="username",
                value=ResetLinkState.email,
                auto_complete="username",
                read_only=True,
                hidden=True,
            ),
            text_field(
                "New password",
                "password",
                ResetLinkState.errors,
                type="password",
                auto_complete="new-password",
                required=True,
                placeholder="At least 10 characters",
            ),
            rx.button("Set new password", type="submit", width="100%"),
            spacing="3",
        ),
        on_submit=ResetLinkState.submit,
    )  # fmt: skip


def email_change_outcome() -> rx.Component:
    return rx.cond(
        EmailChangeState.message == "",
        rx.spinner(),
        either_callout(EmailChangeState.ok, EmailChangeState.message),
    )
