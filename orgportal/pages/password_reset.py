"""/password-reset, /password-reset/{token} and /account/email/{token} (SPEC §13)."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import centered_card
from orgportal.views.password_reset import (
    email_change_outcome,
    new_password_step,
    reset_request_card,
)


def password_reset_page() -> rx.Component:
    return reset_request_card()


def reset_link_page() -> rx.Component:
    return centered_card(rx.heading("Choose a new password", size="6"), new_password_step())


def email_change_page() -> rx.Component:
    return centered_card(
        rx.heading("Email change", size="6"),
        email_change_outcome(),
        rx.link("Continue to your account", href=routes.ACCOUNT, underline="always"),
    )
