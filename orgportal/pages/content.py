"""/links and /files: the active workspace's short links and files, each with a one-line
usage summary (the full usage card is on the organization's Overview)."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.content import (
    create_link_section,
    files_table,
    links_table,
    project_filter,
    upload_section,
    workspace_heading,
)
from orgportal.views.usage import usage_line


def links_page() -> rx.Component:
    return page_frame(
        workspace_heading("Links"),
        usage_line("links"),
        create_link_section(),  # or, for a Viewer, who can create links
        project_filter(),
        links_table(),
    )


def files_page() -> rx.Component:
    return page_frame(
        workspace_heading("My Files"), usage_line("storage"), upload_section(), files_table()
    )
