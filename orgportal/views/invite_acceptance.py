"""The sections of /support/invite/{token}: the three ways to accept, and the unusable link."""

import reflex as rx

from orgportal import routes
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import form_error, text_field
from orgportal.state.invite import InviteState as S


def _summary() -> rx.Component:
    return rx.vstack(
        rx.heading("Join ", S.org_name, size="6"),
        rx.text("You are invited as ", rx.text.strong(S.role_label, id="invite-role-label"), "."),
        rx.cond(S.org_description != "", rx.text(S.org_description, color_scheme="gray")),
        spacing="2",
    )


def _new_user() -> rx.Component:
    return rx.vstack(
        _summary(),
        rx.cond(
            S.unconfirmed_account,
            rx.callout(
                rx.text(
                    "An account was created for ",
                    rx.text.strong(S.invite_email),
                    " but its address was never confirmed. If you created it, ",
                    rx.link("sign in", href=S.sign_in_href, underline="always"),
                    " to accept and keep what it holds. Otherwise create your account here: "
                    "what that account set up is cleared.",
                ),
                icon="info",
                color_scheme="amber",
                size="1",
            ),
            rx.text("Create your account to accept.", size="2"),
        ),
        form_error(S.message),
        rx.form(
            rx.vstack(
                text_field("Email", "email", value=S.invite_email, read_only=True, disabled=True),
                rx.hstack(
                    text_field("First name", "first_name", S.errors, required=True),
                    text_field("Last name", "last_name", S.errors, required=True),
                    width="100%",
                ),
                text_field(
                    "Password",
                    "password",
                    S.errors,
                    type="password",
                    auto_complete="new-password",
                    required=True,
                    placeholder="At least 10 characters",
                ),
                rx.button("Create account and join", type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=S.register_and_accept,
        ),
        spacing="3",
        width="100%",
    )


def _sign_in() -> rx.Component:
    return rx.vstack(
        _summary(),
        rx.text(
            "You already have an account for ",
            rx.text.strong(S.invite_email),
            ". Sign in to accept.",
            size="2",
        ),
        rx.link(rx.button("Sign in", width="100%"), href=S.sign_in_href, width="100%"),
        spacing="3",
        width="100%",
    )


def _confirm() -> rx.Component:
    return rx.vstack(
        _summary(),
        rx.hstack(
            rx.button("Accept", on_click=S.accept),
            confirm_button(
                "Decline",
                title=f"Decline the invitation to {S.org_name}?",
                description=(
                    "You will not join ",
                    rx.text.strong(S.org_name),
                    ". This invitation link stops working; to join later, ask for a new one.",
                ),
                confirm_label="Decline invitation",
                on_confirm=S.decline,
                variant="soft",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _mismatch() -> rx.Component:
    return rx.vstack(
        _summary(),
        rx.callout(
            rx.text(
                "This invitation is for ",
                rx.text.strong(S.invite_email),
                ". You are signed in as ",
                rx.text.strong(S.user_email),
                ".",
            ),
            icon="triangle_alert",
            color_scheme="amber",
            role="alert",
        ),
        rx.button("Sign out", on_click=S.sign_out_here),
        spacing="3",
        width="100%",
    )


def _closed(heading: str) -> rx.Component:
    return rx.vstack(
        rx.heading(heading, size="6"),
        rx.callout(S.message, icon="info", role="status"),
        rx.link("Go to your organization", href=routes.ORGANIZATION, underline="always"),
        spacing="3",
    )


def invitation_stage() -> rx.Component:
    """What the invitation's visitor can do now (InviteState.stage); a spinner until known."""
    return rx.match(
        S.stage,
        ("unusable", _closed("Invitation unavailable")),
        ("declined", _closed("Invitation declined")),
        ("new_user", _new_user()),
        ("sign_in", _sign_in()),
        ("confirm", _confirm()),
        ("mismatch", _mismatch()),
        rx.spinner(),
    )
