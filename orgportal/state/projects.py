"""The Projects list (/projects) and one project's page (/projects/<id>) (SPEC §14)."""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.services import custom_domains, links, projects
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.paging import Paged

PAGE_SIZE = 25
FORM_ERROR = "form"


@dataclasses.dataclass
class ProjectRow:
    id: int
    name: str
    description: str
    links: int
    clicks: str
    href: str
    analytics_href: str
    created: str


@dataclasses.dataclass
class ProjectLinkRow:
    id: int
    slug: str
    short_url: str
    target_url: str
    status: str
    created: str


class ProjectsState(Paged, AppState):
    rows: list[ProjectRow] = []
    error: str = ""
    errors: dict[str, str] = {}
    form_key: int = 0
    FORM: ClassVar[Form] = Form(errors="errors", general=FORM_ERROR, key="form_key")
    show_clicks: bool = False  # once the analytics service counts clicks per project

    def _load(self, session: Session, viewer: Viewer) -> None:
        try:
            found, self.total = self._list(session, viewer)
            if not found and self.page > 0:
                self.page = max(0, -(-self.total // PAGE_SIZE) - 1)
                found, self.total = self._list(session, viewer)
        except DomainError as exc:
            self.rows, self.total, self.error = [], 0, exc.message
            return
        self.error = ""
        self.show_clicks = any(row.click_count is not None for row in found)
        self.rows = [
            ProjectRow(
                id=row.project.id or 0,
                name=row.project.name,
                description=row.project.description,
                links=row.link_count,
                clicks=f"{row.click_count:,}" if row.click_count is not None else "",
                href=routes.project(row.project.id or 0),
                analytics_href=routes.project_analytics(row.project.id or 0),
                created=formatting.date(row.project.created_at),
            )
            for row in found
        ]

    def _list(self, session: Session, viewer: Viewer):
        return projects.list_projects(
            session,
            user=viewer.user,
            organization_id=viewer.session.active_org_id,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )

    @rx.event
    def create(self, form: dict):
        return self._act(
            projects.create_project,
            form=self.FORM,
            done=f"Project {form.get('name', '').strip()} created.",
            name=form.get("name", ""),
            description=form.get("description", ""),
        ).events


class ProjectState(Paged, AppState):
    """One project: its details, its links (paged), rename and delete. The route's
    `[project]` segment is the project's id."""

    found: bool = False
    error: str = ""
    name: str = ""
    description: str = ""
    created: str = ""
    analytics_href: str = ""
    links_href: str = ""
    rows: list[ProjectLinkRow] = []
    errors: dict[str, str] = {}
    form_key: int = 0
    FORM: ClassVar[Form] = Form(errors="errors", general=FORM_ERROR, key="form_key")
    _project_id: int = 0

    def _requested_id(self) -> int:
        raw = str(getattr(self, "project", "") or "")  # the route's [project] segment
        return int(raw) if raw.isdigit() and len(raw) < 10 else 0

    def _load(self, session: Session, viewer: Viewer) -> None:
        project_id = self._requested_id()
        if project_id != self._project_id:
            self.page, self.errors = 0, {}
        org_id = viewer.session.active_org_id
        try:
            project = projects.get_project(
                session, user=viewer.user, organization_id=org_id, project_id=project_id
            )
            found, self.total = links.list_links(
                session,
                user=viewer.user,
                organization_id=org_id,
                project_id=project.id,
                limit=PAGE_SIZE,
                offset=self.page * PAGE_SIZE,
            )
        except DomainError as exc:
            self.found, self.error, self._project_id = False, exc.message, 0
            self.name, self.description, self.rows, self.total = "", "", [], 0
            return
        self.found, self.error, self._project_id = True, "", project.id or 0
        self.name, self.description = project.name, project.description
        self.created = formatting.date(project.created_at)
        self.analytics_href = routes.project_analytics(self._project_id)
        self.links_href = routes.links_in_project(self._project_id)
        urls = custom_domains.short_urls(session, found)
        self.rows = [
            ProjectLinkRow(
                id=link.id or 0,
                slug=link.slug,
                short_url=urls[link.id],
                target_url=link.target_url,
                status="Pending" if link.pending_approval else "Active",
                created=formatting.date(link.created_at),
            )
            for link in found
        ]

    @rx.event
    def rename(self, form: dict):
        return self._act(
            projects.update_project,
            form=self.FORM,
            done="Project saved.",
            project_id=self._project_id,
            name=form.get("name", ""),
            description=form.get("description", ""),
        ).events

    @rx.event
    def delete(self):
        name = self.name
        outcome = self._act(
            projects.delete_project, form=self.FORM, reload=False, project_id=self._project_id
        )
        if not outcome.ok:
            return outcome.events
        return [rx.toast.success(f"Project {name} deleted."), rx.redirect(routes.PROJECTS)]
