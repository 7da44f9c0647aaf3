"""Where an organization's Security settings send a refused member (SPEC §13): set up
two-factor sign-in to continue, or "your address is not allowed". Both offer the way back to
the Personal Workspace, which no organization's settings affect."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.passkeys import passkeys_card
from orgportal.views.security_gate import address_refusal, two_factor_requirement
from orgportal.views.two_factor import two_factor_card


def two_factor_required_page() -> rx.Component:
    return page_frame(
        rx.heading("Set up two-factor sign-in to continue", size="6"),
        two_factor_requirement(),
        two_factor_card(),
        passkeys_card(),  # a passkey satisfies the requirement too (SPEC §16)
    )


def address_blocked_page() -> rx.Component:
    return page_frame(rx.heading("Your address is not allowed", size="6"), address_refusal())
