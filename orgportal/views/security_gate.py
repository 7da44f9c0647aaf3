"""What an organization's Security settings show a refused member (SPEC §13): why, the way
back to the Personal Workspace, and "Continue" once nothing stops them."""

import reflex as rx

from orgportal.state.passkeys import PasskeyState
from orgportal.state.two_factor import SecurityGateState as G
from orgportal.state.two_factor import TwoFactorState


def two_factor_requirement() -> rx.Component:
    """Which organization requires two-factor sign-in; "Continue" once it is on (an app or
    a passkey)."""
    return rx.fragment(
        rx.cond(
            G.reason == "two_factor",
            rx.vstack(
                rx.text(
                    rx.text.strong(G.org_name),
                    " requires two-factor sign-in for its members. Set it up below to open "
                    "the organization; your Personal Workspace works without it.",
                    size="2",
                ),
                _to_personal(),
                spacing="2",
            ),
        ),
        # an authenticator app or a passkey (SPEC §16) meets the requirement
        rx.cond(TwoFactorState.enabled | (PasskeyState.rows.length() > 0), _continue()),
    )


def address_refusal() -> rx.Component:
    """Why the address is refused and what helps; "Continue" once it is allowed."""
    return rx.cond(
        G.reason == "address",
        rx.vstack(
            rx.callout(
                G.message,
                icon="shield_alert",
                color_scheme="red",
                role="alert",
                width="100%",
            ),
            rx.text(
                "Address seen: ",
                rx.code(G.address, id="seen-address"),
                ". Ask an Owner or Admin of ",
                G.org_name,
                " to add it to the IP allowlist, or connect from an allowed network.",
                size="2",
            ),
            _to_personal(),
            spacing="3",
            width="100%",
        ),
        _continue(),
    )


def _to_personal() -> rx.Component:
    return rx.button(
        "Switch to Personal Workspace", variant="soft", on_click=G.to_personal, type="button"
    )


def _continue() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("check")),
        rx.hstack(
            rx.callout.text("Nothing stops you now."),
            rx.button("Continue", size="1", on_click=G.continue_on, high_contrast=True),
            align="center",
            wrap="wrap",
        ),
        color_scheme="green",
        high_contrast=True,
        width="100%",
    )
