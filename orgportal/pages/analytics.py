"""/analytics: clicks and conversions of the active workspace, live while open (SPEC §14)."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.analytics import analytics_body
from orgportal.views.content import workspace_heading


def analytics_page() -> rx.Component:
    return page_frame(workspace_heading("Analytics"), analytics_body())
