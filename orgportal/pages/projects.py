"""/projects (the workspace's projects with link and click counts) and /projects/<id> (one
project: its links, its analytics, rename and delete) (SPEC §14)."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import page_frame
from orgportal.views.content import workspace_heading
from orgportal.views.projects import create_project_section, project_body, projects_table


def projects_page() -> rx.Component:
    return page_frame(workspace_heading("Projects"), create_project_section(), projects_table())


def project_page() -> rx.Component:
    return page_frame(rx.link("← All projects", href=routes.PROJECTS, size="2"), project_body())
