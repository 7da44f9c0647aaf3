"""The Domains sub-page's card (SPEC §15): branded short-link domains, Owner and Admins."""

import reflex as rx

from orgportal import styles
from orgportal.components.badges import status_badge
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import add_form
from orgportal.components.layout import VISUALLY_HIDDEN
from orgportal.components.pager import state_pager
from orgportal.components.rows import row_group
from orgportal.state.base import AppState
from orgportal.state.custom_domains import CustomDomainRow, CustomDomainsState, DnsRecordRow

S = CustomDomainsState


RECORD_COLUMNS = ("Type", "Name", "Value")


def _copyable(text: rx.Var, label: rx.Var, copied: str) -> rx.Component:
    """A value in monospace with its own Copy button (DNS forms want name and value apart)."""
    return rx.hstack(
        rx.code(text, style={"overflow_wrap": "anywhere"}),
        rx.icon_button(
            rx.icon("copy", size=14, aria_hidden="true"),
            size="1",
            variant="ghost",
            aria_label=label,
            title="Copy",
            on_click=[rx.set_clipboard(text), rx.toast.success(copied)],
        ),
        align="center",
        spacing="2",
    )


def _records(row: CustomDomainRow) -> rx.Component:
    def record(item: DnsRecordRow) -> rx.Component:
        suffix = " for " + row.domain
        return rx.table.row(
            rx.table.cell(
                rx.vstack(
                    rx.text.strong(item.type), rx.text(item.purpose, size="1"), spacing="0"
                )
            ),
            rx.table.cell(
                _copyable(item.name, "Copy " + item.type + " name" + suffix, "Name copied.")
            ),
            rx.table.cell(
                _copyable(item.value, "Copy " + item.type + " value" + suffix, "Value copied.")
            ),
            aria_label=item.type + " record for " + row.domain,
        )

    return rx.table.root(
        rx.el.caption("DNS records for ", row.domain, style=VISUALLY_HIDDEN),
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(h) for h in RECORD_COLUMNS])
        ),
        rx.table.body(rx.foreach(row.records, record)),
        size="1",
        **styles.table(RECORD_COLUMNS),
    )


def _domain(row: CustomDomainRow) -> rx.Component:
    failed = row.status == "failed"
    return row_group(
        rx.hstack(
            rx.text(row.display, weight="bold"),
            rx.cond(row.display != row.domain, rx.code(row.domain)),
            status_badge(row.status),
            rx.text("added ", row.added, size="1", color_scheme="gray"),
            align="center",
            wrap="wrap",
        ),
        rx.text(
            row.note,
            size="2",
            color_scheme=rx.cond(failed, "red", "gray"),
            high_contrast=True,
            class_name="domain-status-note",
        ),
        rx.cond(
            row.last_checked != "",
            rx.text(row.last_checked, size="1", color_scheme="gray", high_contrast=True),
        ),
        rx.cond(
            row.status != "verified",
            rx.text("Create these records at your DNS provider:", size="2"),
        ),
        _records(row),
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
        label="Domain " + row.domain,
    )


def domains_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Short-link domains", size="4"),
            rx.text(
                "Share short links on your own domain, like go.acme.com/sale. Point the domain "
                "at this app (a CNAME record), then prove it is yours with a TXT record. We "
                "look the records up on our own while DNS changes spread (up to 48 hours). "
                "Company domains, which say who your people are, are in Settings.",
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
        on_mount=S.watch_pending,  # shows what the background re-check finds
    )


def _not_manager() -> rx.Component:
    return rx.callout(
        "The Owner and Admins manage the organization's custom domains.",
        icon="info",
        width="100%",
    )


def custom_domains_section() -> rx.Component:
    return rx.cond(AppState.caps.edit_organization, domains_card(), _not_manager())
