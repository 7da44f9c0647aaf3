"""The "Check your inbox" card after a form that mails a link (registration, password reset):
the same answer whether or not the address has an account, and a way to use another one."""

import reflex as rx

from orgportal.components.layout import centered_card


def check_inbox_card(
    *lines: rx.Component, link: rx.Component, start_over: rx.EventHandler
) -> rx.Component:
    return centered_card(
        rx.hstack(rx.icon("mail-check", size=28), rx.heading("Check your inbox", size="6")),
        *lines,
        link,
        rx.button(
            "Use a different email",
            variant="ghost",
            size="1",
            on_click=start_over,
        ),
    )
