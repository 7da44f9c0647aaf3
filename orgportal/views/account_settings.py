"""The self-service cards of /account: Profile, Password, Email, Sessions, Delete account."""

import reflex as rx

from orgportal import styles
from orgportal.components.confirm import action_button, confirm_button, confirm_dialog
from orgportal.components.forms import field_error, text_field
from orgportal.services.user_sessions import PAGE_SIZE
from orgportal.state.account_settings import AccountSettingsState as S
from orgportal.state.account_settings import SessionRow


def _card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def _form(*fields: rx.Component, submit: str, on_submit, key, label: str) -> rx.Component:
    return rx.form(
        rx.vstack(*fields, rx.button(submit, type="submit"), spacing="3", width="100%"),
        on_submit=on_submit,
        key=key,
        aria_label=label,
        max_width=styles.FORM_MAX_WIDTH,
        width="100%",
    )


def _password(label: str, name: str, errors, auto_complete: str, **props) -> rx.Component:
    return text_field(
        label, name, errors, type="password", auto_complete=auto_complete, required=True, **props
    )


def profile_card() -> rx.Component:
    e = S.profile_errors
    return _card(
        "Profile",
        _form(
            field_error(e, "profile_form"),
            text_field("First name", "first_name", e, default_value=S.first_name, required=True),
            text_field("Last name", "last_name", e, default_value=S.last_name, required=True),
            submit="Save name",
            on_submit=S.save_profile,
            key=S.profile_key,
            label="Profile",
        ),
    )


def password_card() -> rx.Component:
    e = S.password_errors
    return _card(
        "Password",
        rx.text(
            "Changing your password signs you out everywhere else and revokes your API keys.",
            size="2",
        ),
        _form(
            field_error(e, "password_form"),
            _password("Current password", "current_password", e, "current-password"),
            _password(
                "New password", "password", e, "new-password", placeholder="At least 10 characters"
            ),
            submit="Change password",
            on_submit=S.change_password,
            key=S.password_key,
            label="Change password",
        ),
    )


def email_card() -> rx.Component:
    e = S.email_errors
    return _card(
        "Email",
        rx.text(
            "Your email is ", rx.text.strong(S.user_email), ". We send a confirmation link to the "
            "new address (and tell the current one); your email changes when the link is "
            "opened. Invitations sent to your current address stay with it.",
            size="2",
        ),
        rx.cond(
            S.pending_email != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("mail")),
                rx.vstack(
                    rx.text(
                        "Waiting for you to open the link sent to ",
                        rx.text.strong(S.pending_email, id="pending-email"), ".", size="2",
                    ),
                    rx.button(
                        "Cancel email change", size="1", variant="soft",
                        on_click=S.cancel_email_change,
                    ),
                    spacing="2",
                ),
                role="status",
                width="100%",
            ),
        ),
        _form(
            field_error(e, "email_form"),
            text_field(
                "New email", "new_email", e, type="email", auto_complete="email", required=True
            ),
            _password("Current password", "email_password", e, "current-password"),
            submit="Change email",
            on_submit=S.request_email_change,
            key=S.email_key,
            label="Change email",
        ),
    )  # fmt: skip


def _session_row(row: SessionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.browser),
        rx.table.cell(row.address),
        rx.table.cell(row.created),
        rx.table.cell(row.last_seen),
        rx.table.cell(
            rx.cond(
                row.current,
                rx.badge("This session", color_scheme="green"),
                confirm_button(
                    "Sign out", size="1", variant="soft",
                    title="Sign out this session",
                    description=(
                        "The session on ", rx.text.strong(row.browser), " (", row.address,
                        ") ends now; that browser has to sign in again.",
                    ),
                    confirm_label="Sign out session",
                    on_confirm=S.revoke_session(row.id),
                    aria_label="Sign out " + row.browser + " " + row.address,
                ),
            )
        ),
        aria_label="Session " + row.browser,
    )  # fmt: skip


DELETE_FORM = "delete-account-form"
SESSION_HEADERS = ("Browser", "Address", "Signed in", "Last seen", "Actions")


def sessions_card() -> rx.Component:
    return _card(
        "Sessions",
        rx.text(
            "Where your account is signed in now. Signing a session out ends it at once, in "
            "every tab of that browser.",
            size="2",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in SESSION_HEADERS])
            ),
            rx.table.body(rx.foreach(S.sessions, _session_row)),
            **styles.table(SESSION_HEADERS),
        ),
        rx.cond(
            S.sessions_range != "",
            rx.hstack(
                rx.button(
                    "Previous",
                    size="1",
                    variant="soft",
                    disabled=~S.has_previous_sessions,
                    on_click=S.sessions_page(S.sessions_offset - PAGE_SIZE),
                ),
                rx.text(S.sessions_range, size="2"),
                rx.button(
                    "Next",
                    size="1",
                    variant="soft",
                    disabled=~S.has_more_sessions,
                    on_click=S.sessions_page(S.sessions_offset + PAGE_SIZE),
                ),
                align="center",
            ),
        ),
        rx.cond(
            S.other_sessions > 0,
            confirm_button(
                "Sign out everywhere else",
                title="Sign out everywhere else",
                description=(
                    "Every other session of your account ends now (",
                    S.other_sessions.to_string(),
                    " in all); only this browser stays signed in. Your API keys are "
                    "revoked too.",
                ),
                confirm_label="Sign out other sessions",
                on_confirm=S.revoke_other_sessions,
                variant="soft",
            ),
            rx.text("This is your only session.", size="2", color_scheme="gray"),
        ),
    )


def delete_account_card() -> rx.Component:
    e = S.delete_errors
    return _card(
        "Delete account",
        rx.cond(
            S.owned_organizations.length() > 0,
            rx.callout(
                rx.text(
                    "You own ", rx.text.strong(S.owned_text), ". Transfer ownership to another "
                    "member or delete the organization first (Organization → Members or Settings).",
                ),
                icon="info", color_scheme="amber", width="100%", id="delete-blocked",
            ),
        ),
        rx.text(
            "Deleting your account ends your memberships and deletes your personal links, files "
            "and API keys and cancels your personal plan. Links and files you made in an "
            "organization stay with it. It cannot be undone.",
            size="2",
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    "Delete account", color_scheme="red", width="fit-content",
                    disabled=S.owned_organizations.length() > 0,
                )
            ),
            confirm_dialog(
                "Delete account",
                (
                    "Your account, memberships, personal links, files and API keys are deleted. "
                    "Type your email ", rx.text.strong(S.user_email), " and your password to "
                    "confirm.",
                ),
                rx.form(
                    rx.vstack(
                        field_error(e, "delete_form"),
                        text_field("Your email", "confirm_email", e, type="email",
                                   auto_complete="off", required=True),
                        _password("Password", "delete_password", e, "current-password"),
                        spacing="2",
                        margin_top="1em",
                    ),
                    id=DELETE_FORM,
                    on_submit=S.delete_account,
                    aria_label="Delete account",
                ),
                actions=[
                    action_button(
                        "Delete account permanently", type="submit",
                        custom_attrs={"form": DELETE_FORM},
                    )
                ],
            ),
        ),
        border="1px solid var(--red-a6)",
    )  # fmt: skip
