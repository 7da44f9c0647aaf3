"""The sections of /organization/audit: who did what, when (Owner and Admins), a page at a
time; and the note shown in the Personal Workspace, which keeps no log."""

import reflex as rx

from orgportal import styles
from orgportal.components.forms import form_error
from orgportal.state.audit_log import AuditLogState, AuditRow

# (header, column width): a fixed layout whose cells wrap, so the table never needs to
# scroll sideways (a scrolling region without anything focusable is out of keyboard reach).
COLUMNS = (("When", "11em"), ("Who", "22%"), ("Action", "24%"), ("Details", "auto"))
WRAP = {"overflow_wrap": "anywhere"}


def _row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when, **WRAP),
        rx.table.cell(row.actor, **WRAP),
        rx.table.cell(row.action, **WRAP),
        rx.table.cell(row.summary, **WRAP),
    )


def _table() -> rx.Component:
    return rx.cond(
        AuditLogState.rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h, width=w) for h, w in COLUMNS],
                )
            ),
            rx.table.body(rx.foreach(AuditLogState.rows, _row)),
            layout=rx.breakpoints(initial="auto", md="fixed"),
            **styles.table([h for h, _ in COLUMNS]),
        ),
        rx.cond(
            AuditLogState.error == "",
            rx.text("Nothing has been recorded yet.", color_scheme="gray"),
        ),
    )


def audit_log_entries() -> rx.Component:
    """The refusal if any, the page of entries, and Newer / Older."""
    return rx.fragment(
        form_error(AuditLogState.error),
        _table(),
        rx.hstack(
            rx.button(
                "Newer",
                variant="soft",
                on_click=AuditLogState.previous_page,
                disabled=AuditLogState.page == 0,
            ),
            rx.button(
                "Older",
                variant="soft",
                on_click=AuditLogState.next_page,
                disabled=~AuditLogState.has_more,
            ),
        ),
    )


def no_personal_audit_log() -> rx.Component:
    return rx.callout(
        "The Personal Workspace has no audit log: organizations keep one. Switch to an "
        "organization in the profile menu to see its log.",
        icon="info",
        width="100%",
    )
