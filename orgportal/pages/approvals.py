"""/approvals: the links that wait for an Owner's or Admin's approval (SPEC §14), live."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.approvals import approval_section
from orgportal.views.content import workspace_heading


def approvals_page() -> rx.Component:
    return page_frame(workspace_heading("Approval"), approval_section())
