""" "Continue with SSO" on /login (SPEC §16): its own small component under the password
form. The work email finds the organization by its verified company domain; the browser
then goes to that organization's identity provider."""

import reflex as rx

from orgportal.components.forms import form_error, text_field
from orgportal.state.sso import SsoSignInState

S = SsoSignInState


def sso_sign_in() -> rx.Component:
    return rx.cond(
        S.sso_open,
        rx.form(
            rx.vstack(
                rx.heading("Single sign-on", size="3", as_="h2"),
                form_error(S.sso_error),
                text_field(
                    "Work email", "sso_email", type="email", auto_complete="email", required=True
                ),
                rx.hstack(
                    rx.button("Continue", type="submit"),
                    rx.button("Cancel", variant="ghost", type="button", on_click=S.close_sso),
                    spacing="2",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=S.continue_with_sso,
            aria_label="Single sign-on",
            width="100%",
        ),
        rx.button(
            "Continue with SSO", variant="outline", width="100%", type="button", on_click=S.open_sso
        ),
    )
