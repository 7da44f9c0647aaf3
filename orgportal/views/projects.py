"""The sections of /projects (create a project, the projects with link and click counts) and
of /projects/<id> (one project: its links, its analytics, rename and delete) (SPEC §14)."""

import reflex as rx

from orgportal.components.badges import status_badge
from orgportal.components.cells import FILL_CELL, NOWRAP, TRUNCATED
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import form_error, text_area_field, text_field
from orgportal.components.pager import paged_table
from orgportal.components.read_only import if_allowed, read_only_note
from orgportal.state.base import AppState
from orgportal.state.projects import (
    FORM_ERROR,
    ProjectLinkRow,
    ProjectRow,
    ProjectsState,
    ProjectState,
)

# Who may not create, rename or delete projects reads who can.
PROJECTS_NOTE = (
    "You can view this workspace's projects and their links. "
    "Ask an Admin to create, rename or delete projects."
)


def _refusal(errors: rx.Var) -> rx.Component:
    return rx.cond(errors.contains(FORM_ERROR), form_error(errors[FORM_ERROR].to(str)))


def _create_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Create a project", size="4"),
                text_field("Project name", "name", ProjectsState.errors, required=True,
                           max_length=80, placeholder="Spring campaign"),
                text_area_field("Description (optional)", "description", ProjectsState.errors,
                                max_length=500),
                _refusal(ProjectsState.errors),
                rx.button("Create Project", type="submit"),
                width="100%",
            ),
            on_submit=ProjectsState.create,
            key=ProjectsState.form_key,
        ),
        width="100%",
    )  # fmt: skip


def _project_row(row: ProjectRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(row.name, href=row.href, weight="medium"),
                rx.cond(
                    row.description != "",
                    rx.text(row.description, size="1", color_scheme="gray"),
                ),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(row.links, style=NOWRAP)),
        rx.table.cell(rx.text(rx.cond(ProjectsState.show_clicks, row.clicks, "—"), style=NOWRAP)),
        rx.table.cell(rx.text(row.created, style=NOWRAP)),
        rx.table.cell(
            rx.link("Analytics", href=row.analytics_href, size="2", style=NOWRAP,
                    aria_label="Analytics of project " + row.name),
        ),
        aria_label="Project " + row.name,
    )  # fmt: skip


PROJECT_HEADERS = ["Project", "Links", "Clicks", "Created", "Actions"]


def projects_table() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Projects (", ProjectsState.total, ")", size="4"),
            form_error(ProjectsState.error),
            paged_table(
                "projects", ProjectsState, PROJECT_HEADERS, _project_row,
                "No projects yet. Projects group links: each link may belong to one.",
            ),
            width="100%",
        ),
        width="100%",
    )


def create_project_section() -> rx.Component:
    """The create form, or for whoever may not manage projects who can."""
    return if_allowed(
        AppState.caps.manage_projects,
        _create_card(),
        read_only_note(PROJECTS_NOTE, note_id="projects-read-only"),
    )


# --- one project ----------------------------------------------------------------------------


def _project_link_row(row: ProjectLinkRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row.short_url,
                href=row.short_url,
                is_external=True,
                title=row.short_url,
                style=TRUNCATED,
            )
        ),
        rx.table.cell(
            rx.text(row.target_url, size="2", title=row.target_url, style=TRUNCATED),
            style=FILL_CELL,
        ),
        rx.table.cell(status_badge(row.status, style=NOWRAP)),
        rx.table.cell(rx.text(row.created, style=NOWRAP)),
        aria_label="Link " + row.slug,
    )


LINK_HEADERS = ["Short link", "Target", "Status", "Created"]


def _project_links() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Links (", ProjectState.total, ")", size="4"),
                rx.spacer(),
                rx.link("Create or move links on the Links page", href=ProjectState.links_href,
                        size="2"),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            paged_table(
                "links", ProjectState, LINK_HEADERS, _project_link_row,
                "No links in this project yet.",
            ),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _project_analytics() -> rx.Component:
    """The project's analytics live on the Analytics page, filtered to it (SPEC §14)."""
    return rx.card(
        rx.vstack(
            rx.heading("Analytics", size="4"),
            rx.text("Clicks over time, top links, referrers, devices and countries of this "
                    "project's links.", size="2"),
            rx.link("Open this project's analytics", href=ProjectState.analytics_href,
                    id="project-analytics-link"),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _manage_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.form(
                rx.vstack(
                    rx.heading("Project details", size="4"),
                    text_field("Project name", "name", ProjectState.errors, required=True,
                               max_length=80, default_value=ProjectState.name),
                    text_area_field("Description (optional)", "description", ProjectState.errors,
                                    max_length=500, default_value=ProjectState.description),
                    _refusal(ProjectState.errors),
                    rx.button("Save Project", type="submit"),
                    width="100%",
                ),
                on_submit=ProjectState.rename,
                key=ProjectState.form_key,
                width="100%",
            ),
            rx.separator(size="4"),
            confirm_button(
                "Delete Project",
                title="Delete project",
                description=("The project ", rx.text.strong(ProjectState.name),
                             " is deleted. Its links stay and keep working, in no project."),
                confirm_label="Delete project",
                on_confirm=ProjectState.delete,
                variant="soft",
            ),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def project_body() -> rx.Component:
    """One project, once loaded: its header, links, analytics and management (or who may
    manage it); while loading a spinner, and for a project not found the refusal."""
    return rx.cond(
        ProjectState.found,
        rx.vstack(
            rx.heading(ProjectState.name, size="6"),
            rx.text("Workspace: ", rx.text.strong(AppState.active_workspace_name),
                    " · created ", ProjectState.created, size="2"),
            rx.cond(ProjectState.description != "",
                    rx.text(ProjectState.description, size="2")),
            _project_links(),
            _project_analytics(),
            if_allowed(AppState.caps.manage_projects, _manage_card(),
                       read_only_note(PROJECTS_NOTE, note_id="projects-read-only")),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            AppState.page_ready,
            rx.vstack(rx.heading("Project", size="6"), form_error(ProjectState.error),
                      width="100%"),
            rx.center(rx.spinner(size="3"), padding="4em", width="100%"),
        ),
    )  # fmt: skip
