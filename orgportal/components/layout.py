"""The page frame: top bar with the profile menu (Switch Organization) and the mail banner."""

import reflex as rx

from orgportal import routes, styles
from orgportal.state.base import AppState, WorkspaceItem


def _workspace_item(workspace: WorkspaceItem) -> rx.Component:
    return rx.menu.item(
        rx.hstack(
            rx.cond(
                workspace.id == AppState.active_org_id,
                rx.icon("check", size=14),
                rx.box(width="14px"),
            ),
            rx.text(workspace.name),
            spacing="2",
        ),
        on_select=AppState.switch_workspace(workspace.id),
    )


def profile_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=AppState.user_initials, size="1", radius="full"),
                rx.text(AppState.active_workspace_name, size="2"),
                rx.icon("chevron_down", size=14),
                variant="ghost",
                aria_label="Profile menu",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(AppState.user_name, weight="bold", size="2"),
                rx.text(AppState.user_email, size="1", color_scheme="gray"),
                padding="0.5em",
            ),
            rx.menu.separator(),
            rx.text(
                "Switch Organization",
                size="1",
                color_scheme="gray",
                weight="medium",
                padding_x="0.75em",
            ),
            rx.foreach(AppState.workspaces, _workspace_item),
            rx.menu.separator(),
            rx.menu.item("New Organization", on_select=AppState.switch_workspace(0)),
            rx.menu.item("Audit Log", on_select=rx.redirect(routes.AUDIT_LOG)),
            rx.menu.separator(),
            rx.menu.item("Sign out", color_scheme="red", on_select=AppState.sign_out),
        ),
    )


# The signed-in navigation: (label, path).
NAV = [
    ("Organization", routes.ORGANIZATION),
    ("Links", routes.LINKS),
    ("My Files", routes.FILES),
    ("Tickets", routes.TICKETS),
    ("Account", routes.ACCOUNT),
]


def top_bar() -> rx.Component:
    return rx.hstack(
        rx.link(rx.heading("orgportal", size="5"), href=routes.ORGANIZATION, underline="none"),
        rx.cond(
            AppState.signed_in,
            rx.hstack(
                *[rx.link(label, href=path, size="2", weight="medium") for label, path in NAV],
                spacing="4",
                padding_left="1.5em",
            ),
        ),
        rx.spacer(),
        rx.cond(AppState.signed_in, profile_menu()),
        padding_x="1.5em",
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
        align="center",
        width="100%",
    )


def confirm_banner() -> rx.Component:
    return rx.cond(
        AppState.signed_in & ~AppState.email_confirmed,
        rx.callout(
            rx.hstack(
                rx.text(
                    "Please confirm your email address: we sent a link to ",
                    rx.text.strong(AppState.user_email),
                    ".",
                ),
                rx.button(
                    "Resend link", size="1", variant="soft", on_click=AppState.resend_confirmation
                ),
                align="center",
            ),
            icon="mail",
            color_scheme="amber",
            width="100%",
        ),
    )


def page_frame(*children: rx.Component) -> rx.Component:
    return rx.vstack(
        top_bar(),
        rx.vstack(
            confirm_banner(),
            *children,
            spacing="4",
            width="100%",
            max_width=styles.PAGE_MAX_WIDTH,
            padding="1.5em",
            margin_x="auto",
        ),
        width="100%",
        spacing="0",
        min_height="100vh",
    )


def centered_card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(*children, spacing="4", width="100%"),
            width="100%",
            max_width=styles.FORM_MAX_WIDTH,
            size="3",
        ),
        min_height="100vh",
        padding="1em",
    )
