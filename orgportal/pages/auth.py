"""/login, /register and /confirm/{token}."""

import reflex as rx

from orgportal.components.layout import centered_card
from orgportal.components.prefetch import prefetch_page
from orgportal.state.auth import LoginState
from orgportal.views.registration import after_confirmation, confirmation_outcome, registration_card
from orgportal.views.sign_in import sign_in_card


def login_page() -> rx.Component:
    return rx.fragment(
        sign_in_card(),
        # the page a sign-in leads to: its scripts fetched while the password is typed
        prefetch_page(page=LoginState.next_path),
    )


def register_page() -> rx.Component:
    return registration_card()


def confirm_page() -> rx.Component:
    return centered_card(
        rx.heading("Email confirmation", size="6"), confirmation_outcome(), after_confirmation()
    )
