"""The Links and My Files pages: the active workspace's items (SPEC §7)."""

import dataclasses

import reflex as rx

from orgportal import routes
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.models import Role, User
from orgportal.services import files, links, usage
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


class WorkspaceItemsState(AppState):
    """Shared by both pages: which workspace, and whether this user may delete others' items."""

    error: str = ""
    errors: dict[str, str] = {}
    total: int = 0
    page: int = 0

    def _may_delete(self, owner_id: int, user: User) -> bool:
        if owner_id == user.id:
            return True
        role = next((w.role for w in self.workspaces if w.id == self.active_org_id), "")
        return role in (Role.OWNER, Role.ADMIN)

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


class LinksState(WorkspaceItemsState):
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
                self.rows = [
                    LinkRow(
                        id=link.id,
                        slug=link.slug,
                        short_url=f"{settings.public_url}{routes.short_link(link.slug)}",
                        target_url=link.target_url,
                        created=f"{link.created_at:%d %b %Y}",
                        can_delete=self._may_delete(link.owner_id, viewer.user),
                    )
                    for link in found
                ]
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.rows, self.error = [], exc.message

    @rx.event
    def create(self, form: dict):
        self.error, self.errors = "", {}
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                link = links.create_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    target_url=form.get("target_url", ""),
                    slug=form.get("slug", ""),
                )
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except DomainError as exc:
            self.error = exc.message
            return
        self.form_key += 1
        self.page = 0
        return [LinksState.load, rx.toast.success(f"Short link /l/{link.slug} created.")]

    @rx.event
    def delete(self, link_id: int):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                links.delete_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    link_id=link_id,
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [LinksState.load, rx.toast.success("Link deleted.")]

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(0, min(page, self.page_count - 1))
        return LinksState.load


class FilesState(WorkspaceItemsState):
    rows: list[FileRow] = []
    storage_label: str = ""

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
                self.rows = [
                    FileRow(
                        id=f.id,
                        name=f.name,
                        size=usage.human_bytes(f.size_bytes),
                        created=f"{f.created_at:%d %b %Y}",
                        download_url=routes.file_download(f.id),
                        can_delete=self._may_delete(f.owner_id, viewer.user),
                    )
                    for f in found
                ]
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.rows, self.error = [], exc.message

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]):
        self.error = ""
        names = []
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                for upload in uploads:
                    stored = files.upload_file(
                        session,
                        user=viewer.user,
                        organization_id=viewer.session.active_org_id,
                        name=upload.name or upload.filename or "file",
                        data=await upload.read(),
                        directory=settings.files_dir,
                    )
                    names.append(stored.name)
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.error = "; ".join(exc.errors.values())
            return
        except DomainError as exc:
            self.error = exc.message
            return
        return [FilesState.load, rx.toast.success(f"Uploaded {', '.join(names)}.")]

    @rx.event
    def delete(self, file_id: int):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                files.delete_file(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    file_id=file_id,
                    directory=settings.files_dir,
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [FilesState.load, rx.toast.success("File deleted.")]

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(0, min(page, self.page_count - 1))
        return FilesState.load
