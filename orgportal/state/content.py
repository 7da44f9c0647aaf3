"""The Links and My Files pages: the active workspace's items (SPEC §7)."""

import dataclasses
from collections.abc import Callable
from urllib.parse import urlsplit

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.config import settings
from orgportal.models import Link, StoredFile
from orgportal.services import clicks, custom_domains, files, links, projects, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import Conflict, DomainError, ValidationFailed
from orgportal.state.base import AppState
from orgportal.state.paging import Paged

PAGE_SIZE = 25
# Where a refusal that names no field goes in `errors`: the link form's, the upload's.
LINK_ERROR, FILE_ERROR = "form", "file"


@dataclasses.dataclass
class LinkRow:
    id: int
    slug: str
    short_url: str
    target_url: str
    created: str
    can_delete: bool
    project: str = ""  # the project's name, "" for none (issue 15)
    project_id: str = ""  # its id as the project dropdown's value, "" for none
    pending: bool = False  # waits for an Owner/Admin's approval: not redirecting yet
    click_id: bool = False  # the redirect appends op_click=<click id> (issue 15)


@dataclasses.dataclass
class ProjectOption:
    """One choice of a project dropdown: the id as the <option> value, and the name."""

    value: str
    name: str


PENDING_NOTICE = (
    "Short link created. It waits for approval by an Owner or Admin before it redirects."
)
# The Links page's project filter: every link, or those in no project (else a project id).
ALL_PROJECTS, NO_PROJECT = "", "0"


@dataclasses.dataclass
class FileRow:
    id: int
    name: str
    size: str
    created: str
    uploaded_by: str
    download_url: str
    can_delete: bool


class WorkspaceItems(Paged, mixin=True):
    """Paging and messages of one workspace list; a mixin, so Links and Files each have their
    own copy (a shared parent state would share the page number between the two pages).

    `error` is why the list cannot be shown; `errors` are an action's refusals by field
    (those of no single field under LINK_ERROR / FILE_ERROR)."""

    error: str = ""
    errors: dict[str, str] = {}

    def _load(self, session: Session, viewer: Viewer) -> None:
        try:
            found, self.total = self._list(session, viewer)
            if not found and self.page > 0:  # the last page emptied meanwhile
                self.page = max(0, -(-self.total // PAGE_SIZE) - 1)
                found, self.total = self._list(session, viewer)
        except DomainError as exc:
            self.rows, self.total, self.error = [], 0, exc.message
            return
        self.error = ""
        self.rows = [self._row(item, viewer) for item in found]

    def _page_of(self, service: Callable[..., tuple[list, int]], session: Session, viewer: Viewer):
        """This page of the active workspace's items, by `service` (`_list`), and their total."""
        return service(
            session,
            user=viewer.user,
            organization_id=viewer.session.active_org_id,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )


class LinksState(WorkspaceItems, AppState):
    rows: list[LinkRow] = []
    form_key: int = 0
    # Projects (issue 15): the workspace's projects, and the list's filter (`?project=<id>`)
    project_options: list[ProjectOption] = []
    project_filter: str = ALL_PROJECTS
    _project_names: dict[int, str] = {}
    _applied_query: str = ""
    _created_pending: bool = False
    # Issue 17: the organization's verified custom domains a new link may be put on
    domain_options: list[ProjectOption] = []
    app_host: str = ""  # the first choice: the app's own host
    _domain_names: dict[int, str] = {}

    def _list(self, session: Session, viewer: Viewer) -> tuple[list[Link], int]:
        org_id = viewer.session.active_org_id
        verified = custom_domains.verified_domains(
            session, user=viewer.user, organization_id=org_id
        )
        self.domain_options = [ProjectOption(str(d.id), d.domain) for d in verified]
        self._domain_names = {d.id: d.domain for d in verified}
        self.app_host = urlsplit(settings.public_url).netloc
        choices = projects.project_choices(session, user=viewer.user, organization_id=org_id)
        self.project_options = [ProjectOption(str(i), name) for i, name in choices]
        self._project_names = dict(choices)
        query = str(self.router.url.query_parameters.get("project", "") or "")
        if query != self._applied_query:  # the page was opened with ?project=<id>
            self._applied_query, self.page = query, 0
            self.project_filter = query if query.isdigit() and len(query) < 10 else ALL_PROJECTS
        if self.project_filter not in {ALL_PROJECTS, NO_PROJECT, *self._project_value_set()}:
            self.project_filter = ALL_PROJECTS  # that project is gone, or of another workspace
        chosen = int(self.project_filter) if self.project_filter else None
        return links.list_links(
            session,
            user=viewer.user,
            organization_id=org_id,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
            project_id=chosen,
        )

    def _project_value_set(self) -> set[str]:
        return {option.value for option in self.project_options}

    @rx.event
    def filter_by_project(self, value: str):
        self.project_filter, self.page = value, 0
        return self._refresh()

    @rx.event
    def move(self, link_id: int, value: str):
        """Put a link in another project of the workspace ("" for none)."""
        return self._act(
            links.set_link_project,
            done="Project changed.",
            errors="errors",
            field=LINK_ERROR,
            link_id=link_id,
            project_id=int(value) if value.isdigit() and len(value) < 10 else None,
        )

    def _row(self, link: Link, viewer: Viewer) -> LinkRow:
        return LinkRow(
            id=link.id,
            slug=link.slug,
            short_url=custom_domains.short_url(
                link.slug, self._domain_names.get(link.custom_domain_id or 0)
            ),
            target_url=link.target_url,
            created=formatting.date(link.created_at),
            can_delete=usage.may_delete(link, viewer.user, self.caps.role),
            project=self._project_names.get(link.project_id or 0, ""),
            project_id=str(link.project_id or ""),
            pending=link.pending_approval,
            click_id=link.append_click_id,
        )

    @rx.event
    def create(self, form: dict):
        def create(session: Session, viewer: Viewer) -> None:
            try:
                made = links.create_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    target_url=form.get("target_url", ""),
                    slug=form.get("slug", ""),
                    project_id=_project_id(form.get("project_id", "")),
                    custom_domain_id=_project_id(form.get("custom_domain_id", "")),  # issue 17
                )
                if form.get("append_click_id"):  # issue 15: conversion attribution
                    clicks.set_append_click_id(
                        session,
                        user=viewer.user,
                        organization_id=viewer.session.active_org_id,
                        link_id=made.id,
                        enabled=True,
                    )
            except usage.LimitReached:
                raise  # the pool's refusal belongs to the whole form
            except Conflict as exc:  # the slug is taken: say so under the slug field
                raise ValidationFailed({"slug": exc.message}) from exc
            self.page = 0  # the new link is listed first
            self._created_pending = made.pending_approval

        self._created_pending = False
        events = self._run(create, done="Short link created.", errors="errors", field=LINK_ERROR)
        if not self.errors:
            self.form_key += 1  # an empty form for the next link
            if self._created_pending:
                return rx.toast.success(PENDING_NOTICE)
        return events

    @rx.event
    def set_click_id(self, link_id: int, enabled: bool):
        """Issue 15: switch `op_click` on the link's redirects on or off."""
        return self._act(
            clicks.set_append_click_id,
            done="The link now appends a click id." if enabled else "Click id switched off.",
            errors="errors",
            field=LINK_ERROR,
            link_id=link_id,
            enabled=bool(enabled),
        )

    @rx.event
    def delete(self, link_id: int):
        return self._act(
            links.delete_link,
            done="Link deleted.",
            errors="errors",
            field=LINK_ERROR,
            link_id=link_id,
        )


class FilesState(WorkspaceItems, AppState):
    rows: list[FileRow] = []

    def _list(self, session: Session, viewer: Viewer) -> tuple[list[tuple[StoredFile, str]], int]:
        return self._page_of(files.list_files_with_uploaders, session, viewer)

    def _row(self, item: tuple[StoredFile, str], viewer: Viewer) -> FileRow:
        stored, uploaded_by = item
        return FileRow(
            id=stored.id,
            name=stored.name,
            size=usage.human_bytes(stored.size_bytes),
            created=formatting.date(stored.created_at),
            uploaded_by=uploaded_by,
            download_url=routes.file_download(stored.id),
            can_delete=usage.may_delete(stored, viewer.user, self.caps.role),
        )

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]):
        """The upload gate (`api/uploads.py`) authenticated the viewer and capped the body at
        what the workspace may take before any byte was read; each file is read only up to
        the per-file cap (one byte more, so the service names it), and the service checks
        the pool under its lock."""
        cap = settings.max_file_bytes + 1
        contents = [(upload.name or "file", await upload.read(cap)) for upload in uploads]

        def store(session: Session, viewer: Viewer) -> None:
            for name, data in contents:
                files.upload_file(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    name=name,
                    data=data,
                )
            self.page = 0  # the new files are listed first

        names = ", ".join(name for name, _ in contents)
        return self._run(store, done=f"Uploaded {names}.", errors="errors", field=FILE_ERROR)

    @rx.event
    def delete(self, file_id: int):
        return self._act(
            files.delete_file,
            done="File deleted.",
            errors="errors",
            field=FILE_ERROR,
            file_id=file_id,
        )


def _project_id(value: object) -> int | None:
    """A project dropdown's value as an id ("" or anything else: no project; the service
    refuses ids of other workspaces)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else None
