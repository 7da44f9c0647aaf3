"""/tickets: the support desk's ticket list for Agents, Admins and the Owner."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.tickets import tickets_view


def tickets_page() -> rx.Component:
    return page_frame(tickets_view())
