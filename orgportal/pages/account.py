"""/account and its sections: Profile, Sign-in & security, Sessions, Plan and
Notifications, each at its own address with a section nav, instead of one very long column.

`/account` shows the first section (Profile), so old links and bookmarks still land on it.
"""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import account_frame
from orgportal.views.account import api_keys_card
from orgportal.views.account_settings import (
    delete_account_card,
    email_card,
    password_card,
    profile_card,
    sessions_card,
)
from orgportal.views.billing import personal_plan_card
from orgportal.views.notification_settings import notifications_card
from orgportal.views.passkeys import passkeys_card
from orgportal.views.two_factor import two_factor_card


def profile_page() -> rx.Component:
    return account_frame(
        routes.ACCOUNT_PROFILE, profile_card(), email_card(), delete_account_card()
    )


def account_page() -> rx.Component:
    """`/account`: the first section."""
    return profile_page()


def security_page() -> rx.Component:
    return account_frame(
        routes.ACCOUNT_SECURITY,
        password_card(),
        two_factor_card(),
        passkeys_card(),
        api_keys_card(),
    )


def sessions_page() -> rx.Component:
    return account_frame(routes.ACCOUNT_SESSIONS, sessions_card())


def plan_page() -> rx.Component:
    return account_frame(routes.ACCOUNT_PLAN, personal_plan_card())


def notifications_page() -> rx.Component:
    return account_frame(routes.ACCOUNT_NOTIFICATIONS, notifications_card())
