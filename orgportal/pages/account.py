"""/account and its sections (issue 24): Profile, Sign-in & security, Sessions and Plan, each
at its own address with a section nav, instead of one very long column.

`/account` shows the first section (Profile), so old links and bookmarks still land on it.
"""

import reflex as rx

from orgportal import routes
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

# (label, path) of each section, in the nav's order.
SECTIONS = [
    ("Profile", routes.ACCOUNT_PROFILE),
    ("Sign-in & security", routes.ACCOUNT_SECURITY),
    ("Sessions", routes.ACCOUNT_SESSIONS),
    ("Plan", routes.ACCOUNT_PLAN),
]


def _section_link(label: str, path: str, current: str) -> rx.Component:
    """A section entry; the current one is marked for screen readers (aria-current) and by
    weight, background and a bar, never by colour alone."""
    here = path == current
    return rx.link(
        label,
        href=path,
        size="2",
        weight="bold" if here else "medium",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_current="page" if here else None,
        padding_x="0.75em",
        padding_y="0.4em",
        border_radius="var(--radius-2)",
        border_left="3px solid var(--accent-9)" if here else "3px solid transparent",
        background="var(--gray-a3)" if here else "transparent",
        _hover={"color": "var(--gray-12)", "background": "var(--gray-a4)"},
        white_space="nowrap",
        width=rx.breakpoints(initial="auto", md="100%"),
    )


def account_nav(current: str) -> rx.Component:
    """Beside the section on a wide screen; above it, its entries wrapping, on a phone."""
    return rx.el.nav(
        rx.flex(
            *[_section_link(label, path, current) for label, path in SECTIONS],
            direction=rx.breakpoints(initial="row", md="column"),
            wrap="wrap",
            gap="1",
            width="100%",
        ),
        aria_label="Account",
        width=rx.breakpoints(initial="100%", md="13em"),
        flex_shrink="0",
    )


def account_frame(current: str, *children: rx.Component) -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Account", size="6"),
            rx.text(AppState.user_name, " · ", AppState.user_email, size="2", color_scheme="gray"),
            spacing="1",
        ),
        rx.flex(
            account_nav(current),
            rx.vstack(*children, spacing="4", width="100%", min_width="0"),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="1.5em",
            width="100%",
        ),
    )


def profile_page() -> rx.Component:
    return account_frame(
        routes.ACCOUNT_PROFILE, profile_card(), email_card(), delete_account_card()
    )


def account_page() -> rx.Component:
    """`/account`: the first section."""
    return profile_page()


def security_page() -> rx.Component:
    return account_frame(
        routes.ACCOUNT_SECURITY, password_card(), two_factor_card(), api_keys_card()
    )


def sessions_page() -> rx.Component:
    return account_frame(routes.ACCOUNT_SESSIONS, sessions_card())


def plan_page() -> rx.Component:
    return account_frame(routes.ACCOUNT_PLAN, personal_plan_card())
