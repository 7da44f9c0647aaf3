"""/tickets: the support desk's ticket list, and /tickets/[number]: one ticket; for Agents,
Admins and the Owner."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.tickets import ticket_view, tickets_view


def tickets_page() -> rx.Component:
    return page_frame(tickets_view())


def ticket_page() -> rx.Component:
    return page_frame(ticket_view())
