"""The Domains sub-page's card (issue 17): branded short-link domains, Owner and Admins."""

import reflex as rx

from orgportal.components.badges import status_badge
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import add_form
from orgportal.components.pager import state_pager
from orgportal.state.base import AppState
from orgportal.state.custom_domains import CustomDomainRow, CustomDomainsState

S = CustomDomainsState


def _domain(row: CustomDomainRow) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.text(row.display, weight="bold"),
                rx.cond(row.display != row.domain, rx.code(row.domain)),
                status_badge(row.status),
                rx.text("added ", row.added, size="1", color_scheme="gray"),
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                row.status == "failed",
                rx.text("Verification failed: ", row.reason, size="2", color_scheme="red"),
            ),
            rx.cond(
                row.status != "verified",
                rx.text("Create this DNS record, then press Verify:", size="2"),
                rx.text("Keep this DNS record: it is checked again every day.", size="2"),
            ),
            rx.code(row.record, word_break="break-all", aria_label="DNS record for " + row.domain),
            rx.hstack(
                rx.button(
                    "Verify",
                    size="1",
                    on_click=S.verify_domain(row.id),
                    aria_label="Verify " + row.domain,
                ),
                confirm_button(
                    "Remove",
                    size="1",
                    variant="soft",
                    aria_label="Remove domain " + row.domain,
                    title="Remove custom domain",
                    description=(
                        "Short links are no longer served on ",
                        rx.text.strong(row.display),
                        ". Links made on it move to this app's own address.",
                    ),
                    confirm_label="Remove domain",
                    on_confirm=S.remove_domain(row.id),
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        padding_y="0.75em",
        border_top="1px solid var(--gray-a5)",
        role="group",
        aria_label="Domain " + row.domain,
    )


def domains_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Custom Domains", size="4"),
            rx.text(
                "Share short links on your own domain, like go.acme.com/sale. Point the domain "
                "at this app (a CNAME record), then prove it is yours with a TXT record.",
                size="2",
            ),
            rx.text(S.limit_label, size="2", color_scheme="gray", id="domain-limit"),
            add_form(
                "Domain",
                "domain",
                "Add Domain",
                errors=S.domain_errors,
                on_submit=S.add_domain,
                key=S.domain_key,
                placeholder="go.acme.com",
                input_id="field-custom-domain",
            ),
            rx.foreach(S.domains, _domain),
            state_pager("domains", S),
            width="100%",
        ),
        width="100%",
    )


def _not_manager() -> rx.Component:
    return rx.callout(
        "The Owner and Admins manage the organization's custom domains.",
        icon="info",
        width="100%",
    )


def custom_domains_section() -> rx.Component:
    return rx.cond(AppState.caps.edit_organization, domains_card(), _not_manager())
