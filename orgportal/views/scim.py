"""The SCIM provisioning card (Settings sub-page, Owner/Admin; SPEC §16)."""

import reflex as rx

from orgportal.components.confirm import confirm_button
from orgportal.state.scim import ScimState as S


def _base_url() -> rx.Component:
    return rx.vstack(
        rx.text("SCIM base URL", size="2", weight="medium", id="scim-base-url-label"),
        rx.hstack(
            rx.code(
                S.base_url,
                id="scim-base-url",
                aria_labelledby="scim-base-url-label",
                style={"overflow_wrap": "anywhere"},
            ),  # fmt: skip
            rx.icon_button(
                rx.icon("copy", size=14, aria_hidden="true"),
                size="1",
                variant="ghost",
                aria_label="Copy SCIM base URL",
                title="Copy",
                on_click=[rx.set_clipboard(S.base_url), rx.toast.success("SCIM base URL copied.")],
            ),
            align="center",
            spacing="2",
        ),
        spacing="1",
    )


def _new_token() -> rx.Component:
    return rx.cond(
        S.new_token != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(
                    "Your new SCIM token. Copy it into your identity provider now: it will "
                    "not be shown again.", size="2",
                ),
                rx.code(S.new_token, id="new-scim-token", size="2", word_break="break-all"),
                rx.hstack(
                    rx.button(
                        rx.icon("copy", size=14, aria_hidden="true"), "Copy token", size="1",
                        on_click=[rx.set_clipboard(S.new_token),
                                  rx.toast.success("SCIM token copied.")],
                    ),
                    rx.button("Done", size="1", variant="soft", on_click=S.dismiss_token),
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="green",
            width="100%",
            role="status",
        ),
    )  # fmt: skip


def _token() -> rx.Component:
    return rx.cond(
        S.prefix != "",
        rx.vstack(
            rx.text(
                "Token ", rx.code(S.prefix), ", generated ", S.created, ", last used ",
                S.last_used, ".", size="2", id="scim-token-status",
            ),
            rx.hstack(
                confirm_button(
                    "Generate new token", color=None, variant="soft",
                    title="Generate a new SCIM token",
                    description="The current token stops working at once: paste the new one "
                    "into your identity provider.",
                    confirm_label="Generate new token",
                    on_confirm=S.generate,
                ),
                confirm_button(
                    "Revoke", variant="soft",
                    title="Revoke the SCIM token",
                    description="Your identity provider can no longer add or remove members "
                    "until you generate a new token. Members stay as they are.",
                    confirm_label="Revoke token",
                    on_confirm=S.revoke,
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        rx.hstack(
            rx.text("No token yet.", size="2"),
            rx.button("Generate token", on_click=S.generate),
            align="center",
            spacing="3",
        ),
    )  # fmt: skip


def scim_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("SCIM provisioning", size="4"),
            rx.cond(
                S.available,
                rx.vstack(
                    rx.text(
                        "Your identity provider (Okta, Microsoft Entra ID, …) adds members "
                        "here and removes leavers: their sessions and API keys end at once, "
                        "their links and files stay with the organization. Give it this URL "
                        "and a token.",
                        size="2",
                    ),
                    _base_url(),
                    _new_token(),
                    _token(),
                    spacing="3",
                    width="100%",
                ),
                rx.callout(
                    "SCIM provisioning is part of the " + S.plan_name + " plan. Upgrade the "
                    "organization's plan to connect an identity provider.",
                    icon="lock",
                    color_scheme="gray",
                    width="100%",
                    id="scim-locked",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        aria_label="SCIM provisioning",
    )
