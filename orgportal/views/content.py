"""The Links and My Files sections, each scoped to the active workspace."""

import reflex as rx

from orgportal.components.badges import status_badge
from orgportal.components.cells import FILL_CELL, NOWRAP, TRUNCATED
from orgportal.components.confirm import confirm_button
from orgportal.components.dropzone import chosen_files, on_drop_files, rejected_files
from orgportal.components.forms import form_error, form_select, native_select, text_field
from orgportal.components.pager import paged_table
from orgportal.components.read_only import if_allowed, read_only_note
from orgportal.state.base import AppState
from orgportal.state.content import (
    ALL_PROJECTS,
    FILE_ERROR,
    LINK_ERROR,
    NO_PROJECT,
    UPLOADED,
    FileRow,
    FilesState,
    LinkRow,
    LinksState,
    UploadRow,
)

UPLOAD_ID = "my-files-upload"


def workspace_heading(title: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="6"),
        rx.text("Workspace: ", rx.text.strong(AppState.active_workspace_name), size="2"),
        spacing="1",
    )


def _refusal(errors: rx.Var, key: str) -> rx.Component:
    """An action's refusal that belongs to no single field, above the form's button."""
    return rx.cond(errors.contains(key), form_error(errors[key].to(str)))


def _click_id_field() -> rx.Component:
    """SPEC §14: the redirect adds `op_click=<id>` to the target, for conversion attribution."""
    return rx.el.label(
        rx.el.input(type="checkbox", name="append_click_id", id="field-append_click_id"),
        " Append a click id (op_click) to the target, to attribute conversions",
        html_for="field-append_click_id",
        class_name="rt-Text rt-r-size-2",
        style={"display": "flex", "gap": "0.5em", "align_items": "center"},
    )


def _click_id_toggle(row: LinkRow) -> rx.Component:
    """SPEC §14: whether this link's redirect appends `op_click` (its creator, Owner, Admin)."""
    return rx.box(
        rx.checkbox(
            "Click id",
            checked=row.click_id,
            on_change=lambda checked: LinksState.set_click_id(row.id, checked),
            size="1",
            aria_label="Click id for " + row.slug,
        ),
        class_name="one-line-check",
        style=NOWRAP,  # "Click id" on one line
    )


def create_link_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Create a short link", size="4"),
                rx.hstack(
                    text_field("Target URL", "target_url", LinksState.errors,
                               placeholder="https://example.com/long/page", required=True),
                    text_field("Custom slug (optional)", "slug", LinksState.errors,
                               placeholder="spring-sale"),
                    width="100%",
                ),
                _create_project_field(),
                _create_domain_field(),
                _click_id_field(),
                _refusal(LinksState.errors, LINK_ERROR),
                rx.button("Create Link", type="submit"),
                width="100%",
            ),
            on_submit=LinksState.create,
            key=LinksState.form_key,
        ),
        width="100%",
    )  # fmt: skip


# Who cannot create links or upload files reads why, in place of the controls.
LINKS_NOTE = (
    "You can view this workspace's links and their clicks. "
    "Ask an Admin to make you an Agent to create links."
)
FILES_NOTE = (
    "You can view and download this workspace's files. "
    "Ask an Admin to make you an Agent to upload files."
)


def create_link_section() -> rx.Component:
    """The create form for who may create links; for a Viewer, the line saying why not."""
    return if_allowed(
        AppState.caps.create_items,
        create_link_card(),
        read_only_note(LINKS_NOTE, note_id="links-read-only"),
    )


def upload_section() -> rx.Component:
    """The upload control for who may upload; for a Viewer, the line saying why not."""
    return if_allowed(
        AppState.caps.create_items,
        upload_card(),
        read_only_note(FILES_NOTE, note_id="files-read-only"),
    )


def _copy_button(row: LinkRow) -> rx.Component:
    return rx.icon_button(
        rx.icon("copy", size=14, aria_hidden="true"),
        size="1",
        variant="ghost",
        aria_label="Copy short link " + row.slug,
        title="Copy short link",
        on_click=[rx.set_clipboard(row.short_url), rx.toast.success("Short link copied.")],
        margin="0",  # a ghost button's negative margin would spill over the cell's edge
    )


def _project_options(*fixed: tuple[str, str]) -> list[rx.Component]:
    return [
        *[rx.el.option(label, value=value) for value, label in fixed],
        rx.foreach(
            LinksState.project_options,
            lambda option: rx.el.option(option.name, value=option.value),
        ),
    ]


def _create_project_field() -> rx.Component:
    """The new link's project (SPEC §14): none, or one of the workspace's projects."""
    return rx.cond(
        LinksState.project_options.length() > 0,
        form_select(
            "Project",
            "project_id",
            *_project_options(("", "No project")),
            errors=LinksState.errors,
            default_value=rx.cond(
                LinksState.project_filter == NO_PROJECT, "", LinksState.project_filter
            ),
        ),
    )


def _create_domain_field() -> rx.Component:
    """SPEC §15: the new link's domain, the app's own or a verified custom domain."""
    return rx.cond(
        LinksState.domain_options.length() > 0,
        form_select(
            "Domain",
            "custom_domain_id",
            rx.el.option(LinksState.app_host, value=""),
            rx.foreach(
                LinksState.domain_options,
                lambda option: rx.el.option(option.name, value=option.value),
            ),
            errors=LinksState.errors,
            error_key="domain",
            default_value="",
        ),
    )


def project_filter() -> rx.Component:
    """The Links list's filter by project (also opened as /links?project=<id>)."""
    return rx.cond(
        LinksState.project_options.length() > 0,
        rx.hstack(
            rx.el.label("Show links in", html_for="links-project-filter",
                        class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
            native_select(
                *_project_options((ALL_PROJECTS, "All projects"), (NO_PROJECT, "No project")),
                id="links-project-filter",
                value=LinksState.project_filter,
                on_change=LinksState.filter_by_project,
            ),
            align="center",
            spacing="2",
        ),
    )  # fmt: skip


def _project_cell(row: LinkRow) -> rx.Component:
    """Who may change the link picks its project here; others read its name."""
    return rx.cond(
        row.can_delete & (LinksState.project_options.length() > 0),
        native_select(
            *_project_options(("", "No project")),
            value=row.project_id,
            on_change=lambda value: LinksState.move(row.id, value),
            aria_label="Project of link " + row.slug,
        ),
        rx.text(rx.cond(row.project != "", row.project, "—"), size="2"),
    )


def _link_cell(row: LinkRow) -> rx.Component:
    """The short link (one line, Copy beside it) and, under it, where it leads (cut with an
    ellipsis, whole in its tooltip): the column takes the width the others leave."""
    return rx.table.cell(
        rx.vstack(
            rx.hstack(
                rx.link(row.short_url, href=row.short_url, is_external=True, title=row.short_url,
                        class_name="link-short", style=TRUNCATED),
                _copy_button(row),  # beside the link: the link gives way, never the button
                align="center", spacing="2", min_width="0", max_width="100%",
            ),
            rx.link(row.target_url, href=row.target_url, is_external=True, title=row.target_url,
                    class_name="link-target", size="2", style=TRUNCATED),
            rx.cond(row.pending, status_badge("Pending approval", style=NOWRAP)),
            spacing="1", min_width="0", width="100%",
        ),
        style=FILL_CELL,
    )  # fmt: skip


def _clicks_cell(row: LinkRow) -> rx.Component:
    """Clicks of all time and of the last 7 days (bots not counted), from the rollups."""
    return rx.table.cell(
        rx.vstack(
            rx.text(row.clicks, " total", size="2", weight="medium", style=NOWRAP),
            rx.text(row.clicks_7_days, " in 7 days", size="1", color_scheme="gray",
                    high_contrast=True, style=NOWRAP),
            spacing="0",
        ),
        class_name="link-clicks",
    )  # fmt: skip


def _link_row(row: LinkRow) -> rx.Component:
    return rx.table.row(
        _link_cell(row),
        _clicks_cell(row),
        rx.table.cell(_project_cell(row)),
        rx.table.cell(rx.text(row.created, size="2", style=NOWRAP)),
        rx.table.cell(
            rx.cond(
                row.can_delete,
                rx.flex(
                    _click_id_toggle(row),
                    confirm_button(
                        "Delete", size="1", variant="soft",
                        title="Delete link",
                        description=(
                            "The short link ", rx.text.strong(row.short_url),
                            " stops working at once: anyone who opens it gets “not found”. "
                            "This cannot be undone.",
                        ),
                        confirm_label="Delete link",
                        on_confirm=LinksState.delete(row.id),
                    ),
                    gap="3", align="center", wrap="wrap",
                ),
            )
        ),
        aria_label="Link " + row.slug,
        # cells keep their top edge while a focused long target shows in full, so nothing
        # jumps away from under the pointer when the focus moves on
        align="start",
    )  # fmt: skip


def items_table(title: str, state, headers: list[str], row, empty: str) -> rx.Component:
    """A workspace list with its count, rows and pager (Links and My Files look alike)."""
    return rx.card(
        rx.vstack(
            rx.heading(title, " (", state.total, ")", size="4"),
            form_error(state.error),
            paged_table(title.lower(), state, headers, row, empty),
            width="100%",
        ),
        width="100%",
    )


def links_table() -> rx.Component:
    headers = ["Short link", "Clicks", "Project", "Created", "Actions"]
    return items_table("Links", LinksState, headers, _link_row, "No links yet.")


def upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Upload files", size="4"),
            # The drop zone's hidden file input sits inside this <label>, which names it
            # ("Choose files to upload"); a click on the label opens the file dialog, so the
            # zone's own click handler is off (it would open a second one).
            rx.el.label(
                rx.upload.root(
                    rx.hstack(
                        rx.icon("upload", size=16, aria_hidden="true"),
                        rx.text("Choose files to upload", size="2"),
                        rx.text("or drop them here", size="2", color_scheme="gray",
                                high_contrast=True),
                        wrap="wrap",
                    ),
                    id=UPLOAD_ID,
                    multiple=True,
                    no_click=True,
                    # a file over what the workspace takes now is refused before it is sent
                    max_size=FilesState.allowance,
                    on_drop=[
                        on_drop_files(lambda files: FilesState.choose(chosen_files(files))),
                        FilesState.upload(
                            rx.upload_files(
                                upload_id=UPLOAD_ID,
                                on_upload_progress=FilesState.upload_progress.throttle(200),
                            )
                        ),
                    ],
                    on_drop_rejected=lambda rejected: FilesState.refuse_chosen(
                        rejected_files(rejected)
                    ),
                    border="1px dashed var(--gray-a7)",
                    padding="1em",
                    border_radius="8px",
                    width="100%",
                    cursor="pointer",
                ),
                display="block",
                width="100%",
            ),
            rx.text(FilesState.upload_hint, size="1", color_scheme="gray", high_contrast=True,
                    id="upload-hint"),
            _upload_progress(),
            _refusal(FilesState.errors, FILE_ERROR),
            _upload_outcomes(),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _upload_progress() -> rx.Component:
    """How much of the upload has been sent (a large file takes a while)."""
    return rx.cond(
        FilesState.uploading,
        rx.vstack(
            rx.text("Uploading… ", FilesState.progress, "%", size="2", id="upload-progress-text"),
            rx.progress(
                value=FilesState.progress,
                max=100,
                aria_label="Upload progress",
                id="upload-progress",
                width="100%",
            ),
            spacing="1",
            width="100%",
        ),
    )


def _upload_outcome(row: UploadRow) -> rx.Component:
    uploaded = row.status == UPLOADED
    return rx.el.li(
        rx.hstack(
            rx.text(row.name, weight="medium", size="2", style={"overflow_wrap": "anywhere"}),
            rx.text(row.status, size="2", color_scheme=rx.cond(uploaded, "green", "gray"),
                    high_contrast=True, style=NOWRAP),
            align="baseline",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(row.reason != "", rx.text(row.reason, size="2", color_scheme="red")),
        aria_label="Upload of " + row.name,
        list_style="none",
        padding_y="0.25em",
    )  # fmt: skip


def _upload_outcomes() -> rx.Component:
    """Each file of the last upload: uploaded, or why not. A live region, so a screen reader
    hears the outcome of an upload that finishes after the focus moved on."""
    return rx.box(
        rx.cond(
            FilesState.outcomes.length() > 0,
            rx.el.ul(
                rx.foreach(FilesState.outcomes, _upload_outcome),
                padding="0",
                margin="0",
                aria_label="Upload results",
                id="upload-outcomes",
            ),
        ),
        role="status",
        width="100%",
    )


def _file_row(row: FileRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(row.name, href=row.download_url, is_external=True),
                rx.text("Uploaded by ", row.uploaded_by, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row.size),
        rx.table.cell(row.created),
        rx.table.cell(
            rx.cond(
                row.can_delete,
                confirm_button(
                    "Delete", size="1", variant="soft",
                    title="Delete file",
                    description=(
                        rx.text.strong(row.name),
                        " is deleted for good, and its download link stops working. "
                        "This cannot be undone.",
                    ),
                    confirm_label="Delete file",
                    on_confirm=FilesState.delete(row.id),
                ),
            )
        ),
        aria_label="File " + row.name,
    )  # fmt: skip


def files_table() -> rx.Component:
    headers = ["Name", "Size", "Uploaded", "Actions"]
    return items_table("Files", FilesState, headers, _file_row, "No files yet.")
