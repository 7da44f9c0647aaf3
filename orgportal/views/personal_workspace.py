"""The overview of the Personal Workspace for someone with organizations."""

import reflex as rx

from orgportal import routes
from orgportal.state.base import AppState
from orgportal.state.organization import OrganizationChoice, OrgState
from orgportal.views.usage import usage_card


def _organization_row(choice: OrganizationChoice) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(choice.name, weight="bold", size="2"),
                rx.text(choice.role_label, size="1", color_scheme="gray", high_contrast=True),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.button(
                "Open",
                size="2",
                variant="soft",
                aria_label="Open " + choice.name,
                on_click=AppState.switch_workspace(choice.id, routes.ORGANIZATION),
            ),
            align="center",
            width="100%",
        ),
        padding_y="0.5em",
        border_top="1px solid var(--gray-a5)",
        list_style="none",
    )


def personal_overview() -> rx.Component:
    """The Personal Workspace of someone with organizations: the organizations to open (most
    recently used first, as in the profile menu), a way to create another, and the
    workspace's own usage."""
    return rx.vstack(
        rx.heading("Personal Workspace", size="6"),
        rx.text(
            "Your own links and files. Open an organization to work with its team.",
            size="2",
            color_scheme="gray",
            high_contrast=True,
        ),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.heading("Your organizations", size="4"),
                    rx.spacer(),
                    rx.button(
                        rx.icon("plus", size=14, aria_hidden="true"),
                        "Create an organization",
                        variant="outline",
                        on_click=rx.redirect(routes.ORG_NEW),
                    ),
                    align="center",
                    gap="2",
                    wrap="wrap",
                    width="100%",
                ),
                rx.el.ul(
                    rx.foreach(OrgState.my_organizations, _organization_row),
                    padding="0",
                    margin="0",
                    width="100%",
                    aria_label="Your organizations",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        usage_card(),
        spacing="4",
        width="100%",
    )
