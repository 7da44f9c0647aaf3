"""/organization/audit: who did what, when."""

import reflex as rx

from orgportal.components.forms import form_error
from orgportal.components.layout import page_frame
from orgportal.state.audit_log import AuditLogState, AuditRow


def _row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when),
        rx.table.cell(row.actor),
        rx.table.cell(rx.code(row.action)),
        rx.table.cell(row.summary),
    )


def audit_log_page() -> rx.Component:
    return page_frame(
        rx.heading("Audit Log", size="6"),
        form_error(AuditLogState.error),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("When"),
                    rx.table.column_header_cell("Who"),
                    rx.table.column_header_cell("Action"),
                    rx.table.column_header_cell("Details"),
                )
            ),
            rx.table.body(rx.foreach(AuditLogState.rows, _row)),
            width="100%",
        ),
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
