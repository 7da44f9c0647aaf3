"""The Links and My Files pages: the active workspace's items (SPEC §7)."""

import dataclasses
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.models import Link, Role, StoredFile, User
from orgportal.services import files, links, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.state.base import AppState

PAGE_SIZE = 25


@dataclasses.dataclass
class LinkRow:
    id: int
    slug: str
    short_url: str
    target_url: str
    created: str
    can_delete: bool


@dataclasses.dataclass
class FileRow:
    id: int
    name: str
    size: str
    created: str
    download_url: str
    can_delete: bool


class WorkspaceItems(rx.State, mixin=True):
    """Paging and messages of one workspace list; a mixin, so Links and Files each have their
    own copy (a shared parent state would share the page number between the two pages)."""

    error: str = ""
    errors: dict[str, str] = {}
    total: int = 0
    page: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(0, min(page, self.page_count - 1))
        return type(self).load

    def _may_delete(self, owner_id: int, user: User) -> bool:
        """Only hides buttons: the services decide (creator, or an Owner/Admin)."""
        if owner_id == user.id:
            return True
        role = next((w.role for w in self.workspaces if w.id == self.active_org_id), "")
        return role in (Role.OWNER, Role.ADMIN)

    def _change(self, action: Callable[[Session, Viewer], None], done: str):
        """Run one service call in the active workspace, then reload the list."""
        self.error, self.errors = "", {}
        try:
            with unit_of_work() as session:
                action(session, self._viewer(session))
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors, self.error = exc.errors, exc.errors.get("file", "")  # files: no field
            return None
        except DomainError as exc:
            self.error = exc.message
            return None
        return [type(self).load, rx.toast.success(done)]


class LinksState(WorkspaceItems, AppState):
    rows: list[LinkRow] = []
    form_key: int = 0

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                found, self.total = links.list_links(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    limit=PAGE_SIZE,
                    offset=self.page * PAGE_SIZE,
                )
                self.rows = [self._row(link, viewer.user) for link in found]
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.rows, self.error = [], exc.message

    def _row(self, link: Link, user: User) -> LinkRow:
        return LinkRow(
            id=link.id,
            slug=link.slug,
            short_url=f"{settings.public_url}{routes.short_link(link.slug)}",
            target_url=link.target_url,
            created=f"{link.created_at:%d %b %Y}",
            can_delete=self._may_delete(link.owner_id, user),
        )

    @rx.event
    def create(self, form: dict):
        created: list[Link] = []

        def action(session: Session, viewer: Viewer) -> None:
            created.append(
                links.create_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    target_url=form.get("target_url", ""),
                    slug=form.get("slug", ""),
                )
            )

        result = self._change(action, "Short link created.")
        if created:
            self.form_key, self.page = self.form_key + 1, 0
        return result

    @rx.event
    def delete(self, link_id: int):
        return self._change(
            lambda session, viewer: links.delete_link(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                link_id=link_id,
            ),
            "Link deleted.",
        )


class FilesState(WorkspaceItems, AppState):
    rows: list[FileRow] = []

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                found, self.total = files.list_files(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    limit=PAGE_SIZE,
                    offset=self.page * PAGE_SIZE,
                )
                self.rows = [self._row(f, viewer.user) for f in found]
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.rows, self.error = [], exc.message

    def _row(self, stored: StoredFile, user: User) -> FileRow:
        return FileRow(
            id=stored.id,
            name=stored.name,
            size=usage.human_bytes(stored.size_bytes),
            created=f"{stored.created_at:%d %b %Y}",
            download_url=routes.file_download(stored.id),
            can_delete=self._may_delete(stored.owner_id, user),
        )

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]):
        """Signed in first; then each file is read only up to what the workspace may take
        now (one byte more, so the service names the limit it passes)."""
        self.error, self.errors = "", {}
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                allowance = files.upload_allowance(
                    session, user=viewer.user, organization_id=viewer.session.active_org_id
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.error = exc.message
            return None
        contents = [(upload.name or "file", await upload.read(allowance + 1)) for upload in uploads]

        def action(session: Session, viewer: Viewer) -> None:
            for name, data in contents:
                files.upload_file(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    name=name,
                    data=data,
                    directory=settings.files_dir,
                )

        names = ", ".join(name for name, _ in contents)
        return self._change(action, f"Uploaded {names}.")

    @rx.event
    def delete(self, file_id: int):
        return self._change(
            lambda session, viewer: files.delete_file(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id,
                file_id=file_id,
                directory=settings.files_dir,
            ),
            "File deleted.",
        )
