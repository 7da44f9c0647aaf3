"""/links and /files: the active workspace's short links and files, with its usage bars."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.views.content import (
    create_link_card,
    files_table,
    links_table,
    upload_card,
    workspace_heading,
)
from orgportal.views.usage import usage_card


def links_page() -> rx.Component:
    return page_frame(workspace_heading("Links"), create_link_card(), links_table(), usage_card())


def files_page() -> rx.Component:
    return page_frame(workspace_heading("My Files"), upload_card(), files_table(), usage_card())
