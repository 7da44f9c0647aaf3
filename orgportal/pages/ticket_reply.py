"""/support/ticket/{token}: a ticket's requester reads the conversation and replies (SPEC §17)."""

import reflex as rx

from orgportal.components.layout import centered_card
from orgportal.views.ticket_reply import ticket_reply_step


def ticket_reply_page() -> rx.Component:
    return centered_card(ticket_reply_step(), conversation=True)
