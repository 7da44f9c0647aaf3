"""The page for any path the app does not have (Reflex's route "404")."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import centered_card


def not_found_page() -> rx.Component:
    return centered_card(
        rx.text("Error 404", size="2", weight="medium", color_scheme="gray", high_contrast=True),
        rx.heading("Page not found", size="6"),
        rx.text(
            "There is nothing at this address. The link may be mistyped, or the page may "
            "have moved.",
            size="2",
        ),
        rx.button(
            rx.link("Go to the home page", href=routes.HOME, underline="none"),
            as_child=True,  # one link styled as a button, not a button in a link
        ),
    )
