"""/account: the signed-in user's account settings: their plan and their API keys."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.state.base import AppState
from orgportal.views.account import api_keys_card
from orgportal.views.account_settings import (
    delete_account_card,
    email_card,
    password_card,
    profile_card,
    sessions_card,
)
from orgportal.views.billing import personal_plan_card
from orgportal.views.two_factor import two_factor_card


def account_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Account", size="6"),
            rx.text(AppState.user_name, " · ", AppState.user_email, size="2", color_scheme="gray"),
            spacing="1",
        ),
        profile_card(),
        email_card(),
        password_card(),
        two_factor_card(),
        sessions_card(),
        personal_plan_card(),
        api_keys_card(),
        delete_account_card(),
    )
