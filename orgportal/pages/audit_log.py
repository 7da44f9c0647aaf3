"""/organization/audit: who did what, when (Owner and Admins), beside the organization's
other sub-pages."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import organization_frame, page_frame
from orgportal.state.base import AppState
from orgportal.views.audit_log import audit_log_entries, no_personal_audit_log


def audit_log_page() -> rx.Component:
    return rx.cond(
        AppState.page_ready & (AppState.active_org_id == 0),
        page_frame(rx.heading("Audit Log", size="6"), no_personal_audit_log()),
        organization_frame(
            routes.AUDIT_LOG, rx.heading("Audit Log", size="6"), audit_log_entries()
        ),
    )
