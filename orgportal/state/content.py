"""The Links and My Files pages: the active workspace's items (SPEC §7)."""

import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlsplit

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.config import settings
from orgportal.db import UNAVAILABLE_MESSAGE, database_unavailable
from orgportal.models import Link, StoredFile
from orgportal.services import clicks, custom_domains, files, links, projects, usage
from orgportal.services.accounts import Viewer
from orgportal.services.errors import Conflict, DomainError, ValidationFailed
from orgportal.services.permissions import may_delete
from orgportal.state.base import AppState
from orgportal.state.event_threads import in_thread
from orgportal.state.outcome import Form
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
    project: str = ""  # the project's name, "" for none (SPEC §14)
    project_id: str = ""  # its id as the project dropdown's value, "" for none
    pending: bool = False  # waits for an Owner/Admin's approval: not redirecting yet
    click_id: bool = False  # the redirect appends op_click=<click id> (SPEC §14)
    clicks: str = "0"  # all time, from the rollups
    clicks_7_days: str = "0"  # today and the six days before


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


# What became of each file of the last upload, as the list beside the control says.
UPLOADING, UPLOADED, NOT_UPLOADED = "Uploading…", "Uploaded", "Not uploaded"


@dataclasses.dataclass
class UploadRow:
    name: str
    status: str  # UPLOADING, UPLOADED or NOT_UPLOADED
    reason: str = ""  # why it was not uploaded


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
    CREATE_FORM: ClassVar[Form] = Form(errors="errors", general=LINK_ERROR, key="form_key")
    LINK_FORM: ClassVar[Form] = Form(errors="errors", general=LINK_ERROR)
    # Projects (SPEC §14): the workspace's projects, and the list's filter (`?project=<id>`)
    project_options: list[ProjectOption] = []
    project_filter: str = ALL_PROJECTS
    _project_names: dict[int, str] = {}
    _applied_query: str = ""
    # SPEC §15: the organization's verified custom domains a new link may be put on
    domain_options: list[ProjectOption] = []
    app_host: str = ""  # the first choice: the app's own host
    _domain_names: dict[int, str] = {}

    def _list(self, session: Session, viewer: Viewer) -> tuple[list[links.ListedLink], int]:
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
        query = str(self._page_query().get("project", "") or "")
        if query != self._applied_query:  # the page was opened with ?project=<id>
            self._applied_query, self.page = query, 0
            self.project_filter = query if query.isdigit() and len(query) < 10 else ALL_PROJECTS
        if self.project_filter not in {ALL_PROJECTS, NO_PROJECT, *self._project_value_set()}:
            self.project_filter = ALL_PROJECTS  # that project is gone, or of another workspace
        chosen = int(self.project_filter) if self.project_filter else None
        return links.list_links_with_clicks(  # the rows and their click counts: one query
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
            form=self.LINK_FORM,
            done="Project changed.",
            link_id=link_id,
            project_id=int(value) if value.isdigit() and len(value) < 10 else None,
        ).events

    def _row(self, listed: links.ListedLink, viewer: Viewer) -> LinkRow:
        link = listed.link
        return LinkRow(
            id=link.id,
            slug=link.slug,
            short_url=custom_domains.short_url(
                link.slug, self._domain_names.get(link.custom_domain_id or 0)
            ),
            target_url=link.target_url,
            created=formatting.date(link.created_at),
            can_delete=may_delete(link, viewer.user, self.caps.role),
            project=self._project_names.get(link.project_id or 0, ""),
            project_id=str(link.project_id or ""),
            pending=link.pending_approval,
            click_id=link.append_click_id,
            clicks=f"{listed.clicks:,}",
            clicks_7_days=f"{listed.clicks_7_days:,}",
        )

    @rx.event
    def create(self, form: dict):
        def create(session: Session, viewer: Viewer) -> Link:
            try:
                made = links.create_link(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    target_url=form.get("target_url", ""),
                    slug=form.get("slug", ""),
                    project_id=_project_id(form.get("project_id", "")),
                    custom_domain_id=_project_id(form.get("custom_domain_id", "")),  # SPEC §15
                    append_click_id=bool(form.get("append_click_id")),  # SPEC §14
                )
            except usage.LimitReached:
                raise  # the pool's refusal belongs to the whole form
            except Conflict as exc:  # the slug is taken: say so under the slug field
                raise ValidationFailed({"slug": exc.message}) from exc
            self.page = 0  # the new link is listed first
            return made

        outcome = self._attempt(create, form=self.CREATE_FORM, done="Short link created.")
        if outcome.ok and outcome.value.pending_approval:
            return rx.toast.success(PENDING_NOTICE)
        return outcome.events

    @rx.event
    def set_click_id(self, link_id: int, enabled: bool):
        """SPEC §14: switch `op_click` on the link's redirects on or off."""
        return self._act(
            clicks.set_append_click_id,
            form=self.LINK_FORM,
            done="The link now appends a click id." if enabled else "Click id switched off.",
            link_id=link_id,
            enabled=bool(enabled),
        ).events

    @rx.event
    def delete(self, link_id: int):
        return self._act(
            links.delete_link, form=self.LINK_FORM, done="Link deleted.", link_id=link_id
        ).events


class FilesState(WorkspaceItems, AppState):
    rows: list[FileRow] = []
    FILES_FORM: ClassVar[Form] = Form(errors="errors", general=FILE_ERROR)
    # The bytes one upload may carry now (the per-file cap, or the free storage
    # when less): the drop zone refuses a larger file before sending it; the upload gate
    # (`api/uploads.py`) and the service check again.
    allowance: int = 0
    outcomes: list[UploadRow] = []  # each file of the last upload: uploaded, or why not
    uploading: bool = False
    progress: int = 0  # percent of the upload's bytes sent
    # An upload's outcome that came before its `choose` (results, or the gate's refusal)
    _early: list[UploadRow] | str | None = None
    _early_at: float = 0.0

    @rx.var
    def upload_hint(self) -> str:
        """Under the upload control: how much one upload may carry now."""
        if self.allowance <= 0:
            return "No storage is left in this workspace: delete files to make room."
        return f"Up to {usage.human_bytes(self.allowance)} per upload now."

    def _load(self, session: Session, viewer: Viewer) -> None:
        super()._load(session, viewer)
        self.allowance = 0
        if self.caps.create_items:
            with contextlib.suppress(DomainError):  # e.g. the organization's Security rules
                self.allowance = files.upload_allowance(
                    session, user=viewer.user, organization_id=viewer.session.active_org_id
                )

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
            can_delete=may_delete(stored, viewer.user, self.caps.role),
        )

    @rx.event
    def choose(self, chosen: list[dict]):
        """The files the drop zone accepted (`[{name, size}]`), before their bytes are sent:
        listed as uploading. The drop zone's refusals follow (`refuse_chosen`).

        This event and the upload travel apart (the websocket, an HTTP request), so the
        upload's outcome (`upload`, or the gate's `_upload_refused`) may come first: it is
        kept a few seconds (`_early`) and used here."""
        early = self._early if time.time() - self._early_at < EARLY_SECONDS else None
        self._early, self._early_at = None, 0.0
        names = [_file_name(c) for c in chosen[:MAX_LISTED]]
        if isinstance(early, str):  # the gate refused the upload before this came
            self.outcomes = [UploadRow(n, NOT_UPLOADED, early) for n in names]
        else:
            done = {row.name: row for row in early or []}
            self.outcomes = [done.pop(n, None) or UploadRow(n, UPLOADING) for n in names]
        self.errors = {}
        self.uploading = any(row.status == UPLOADING for row in self.outcomes)
        self.progress = 0

    @rx.event
    def refuse_chosen(self, rejected: list[dict]):
        """Files the drop zone refused to send (larger than `allowance`), with the reason in
        our words (react-dropzone's own text is never shown)."""
        room = MAX_LISTED - len(self.outcomes)
        self.outcomes = self.outcomes + [
            UploadRow(_file_name(r), NOT_UPLOADED, self._drop_reason(r)) for r in rejected[:room]
        ]

    def _drop_reason(self, rejected: dict) -> str:
        codes = rejected.get("codes") or []
        if "file-too-large" in codes:
            if self.allowance <= 0:
                return "No storage is left in this workspace: delete files to make room."
            return f"Larger than the {usage.human_bytes(self.allowance)} allowed now."
        if "too-many-files" in codes:
            return "Too many files at once: choose fewer."
        return "This file cannot be uploaded."

    @rx.event
    def upload_progress(self, progress: dict):
        """Reflex's upload progress (bytes sent of the whole upload), as a percent."""
        try:
            share = float(progress.get("progress", 0))
        except (TypeError, ValueError):
            return
        if self.uploading:
            self.progress = max(0, min(100, int(share * 100)))

    def _upload_refused(self, message: str) -> None:
        """The upload gate refused the whole upload (larger than allowed now, the role) before
        any byte was read: called by the gate (`api/uploads.py`), as the browser's upload
        call drops the answer. Each file waiting is marked with the reason."""
        self._settle(message)

    def _settle(self, refusal: str) -> None:
        """The upload is over, refused as a whole: files waiting were not uploaded. With none
        waiting (`choose` has not come yet) the reason shows beside the control, and waits
        for `choose`."""
        if any(row.status == UPLOADING for row in self.outcomes):
            self.outcomes = [
                UploadRow(row.name, NOT_UPLOADED, refusal) if row.status == UPLOADING else row
                for row in self.outcomes
            ]
            self.errors = {}
        elif refusal:
            self._early, self._early_at = refusal, time.time()
            self.errors = {FILE_ERROR: refusal}
        self.uploading = False

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]):
        """The upload gate (`api/uploads.py`) authenticated the viewer and capped the body at
        what the workspace may take before any byte was read; each file is read only up to
        the per-file cap (one byte more, so the service names it), and the service stores
        or refuses each file on its own, checking the pool under its lock."""
        cap = settings.max_file_bytes + 1
        contents = [(upload.name or "file", await upload.read(cap)) for upload in uploads]
        if not contents:  # the drop zone refused every file: nothing was sent
            self.uploading = False
            return None
        outcomes: list[files.UploadOutcome] = []

        def store(session: Session, viewer: Viewer) -> None:
            outcomes.extend(
                files.upload_each(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id,
                    uploads=contents,
                )
            )
            if any(outcome.stored for outcome in outcomes):
                self.page = 0  # the new files are listed first

        try:
            events = await in_thread(self._run, store, form=self.FILES_FORM)  # (storage, too)
        except Exception as exc:
            # Said beside each file, which would stay "Uploading…" otherwise; raised, it
            # would also fail the upload's already-streaming HTTP answer.
            if not database_unavailable(exc):
                raise
            self._settle(UNAVAILABLE_MESSAGE)
            return None
        if not outcomes:  # refused as a whole (the role, the organization's settings)
            self._settle(self.errors.get(FILE_ERROR, ""))
            return events
        self._show_results(
            [
                UploadRow(o.name, UPLOADED)
                if o.stored
                else UploadRow(o.name, NOT_UPLOADED, o.refusal)
                for o in outcomes
            ]
        )
        if all(outcome.stored for outcome in outcomes):
            names = ", ".join(outcome.name for outcome in outcomes)
            return rx.toast.success(f"Uploaded {names}.")
        return events

    def _show_results(self, results: list[UploadRow]) -> None:
        """Each result in place of its file's "Uploading…" row (by name); before `choose`
        has listed the files, the results are shown as they are, and kept for it."""
        rows = list(self.outcomes)
        waiting = [i for i, row in enumerate(rows) if row.status == UPLOADING]
        if not waiting:
            self._early, self._early_at = results, time.time()
            rows = results + [row for row in rows if row.status == NOT_UPLOADED]
        for result in results:
            index = next((i for i in waiting if rows[i].name == result.name), None)
            if index is None and waiting:
                index = waiting[0]
            if index is not None:
                waiting.remove(index)
                rows[index] = result
        self.outcomes = rows[:MAX_LISTED]
        self.uploading, self.progress = False, 100

    @rx.event
    def delete(self, file_id: int):
        return self._act(
            files.delete_file, form=self.FILES_FORM, done="File deleted.", file_id=file_id
        ).events


# The outcome list shows this many files of one upload at most.
MAX_LISTED = 50
# How long an upload's outcome waits for its `choose` (they arrive milliseconds apart).
EARLY_SECONDS = 10.0


def _file_name(chosen: object) -> str:
    """A chosen file's name as the browser gave it (`components/dropzone.py`), shown only
    as text: its last path segment, as the service stores it."""
    raw = str(chosen.get("name") or "") if isinstance(chosen, dict) else ""
    return raw.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "A file without a name"


def _project_id(value: object) -> int | None:
    """A project dropdown's value as an id ("" or anything else: no project; the service
    refuses ids of other workspaces)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else None
