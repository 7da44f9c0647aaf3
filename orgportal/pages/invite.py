"""/support/invite/{token}: the three ways to accept, and the unusable-link page."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import centered_card
from orgportal.components.prefetch import prefetch_page
from orgportal.views.invite_acceptance import invitation_stage


def invite_page() -> rx.Component:
    return centered_card(
        invitation_stage(),
        # joining leads to the organization's overview: its scripts fetched in advance
        prefetch_page(page=routes.ORGANIZATION),
    )
