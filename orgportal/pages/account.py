"""/account: the signed-in user's account settings: their plan and their API keys."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.state.base import AppState
from orgportal.views.account import api_keys_card
from orgportal.views.billing import personal_plan_card


def account_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Account", size="6"),
            rx.text(AppState.user_name, " · ", AppState.user_email, size="2", color_scheme="gray"),
            spacing="1",
        ),
        personal_plan_card(),
        api_keys_card(),
    )
