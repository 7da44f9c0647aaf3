"""The approval queue of /approvals: the links that wait for an Owner's or Admin's approval
(SPEC §14), live."""

import reflex as rx

from orgportal import routes
from orgportal.components.cells import FILL_CELL, NOWRAP, TRUNCATED
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import form_error
from orgportal.components.pager import paged_table
from orgportal.components.read_only import if_allowed, read_only_note
from orgportal.state.approvals import ApprovalsState, PendingRow
from orgportal.state.base import AppState

HEADERS = ["Short link", "Target", "Created by", "Created", "Actions"]
# The queue is the Owner's and Admins' (the nav shows it only to them); anyone
# else who opens it reads who decides.
NOT_AN_APPROVER = (
    "The Owner and Admins approve new links here. "
    "Ask an Admin if a link of yours is waiting for approval."
)


def _row(row: PendingRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.short_url, size="2", title=row.short_url, style=TRUNCATED)),
        rx.table.cell(rx.link(row.target_url, href=row.target_url, is_external=True, size="2",
                              title=row.target_url, style=TRUNCATED), style=FILL_CELL),
        rx.table.cell(row.creator),
        rx.table.cell(rx.text(row.created, style=NOWRAP)),
        rx.table.cell(
            rx.hstack(
                rx.button("Approve", size="1", on_click=ApprovalsState.approve(row.id),
                          aria_label="Approve link " + row.slug, style=NOWRAP),
                confirm_button(
                    "Reject", size="1", variant="soft",
                    aria_label="Reject link " + row.slug,
                    title="Reject link",
                    description=("The short link ", rx.text.strong(row.short_url),
                                 " is deleted and ", rx.text.strong(row.creator),
                                 " is told by email. This cannot be undone."),
                    confirm_label="Reject link",
                    on_confirm=ApprovalsState.reject(row.id),
                    style=NOWRAP,
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        aria_label="Pending link " + row.slug,
    )  # fmt: skip


def _queue() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Waiting for approval (", ApprovalsState.total, ")", size="4"),
            rx.cond(
                ~ApprovalsState.setting_on,
                rx.text(
                    "Require approval for links is off in Settings: new links are not held "
                    "back, but the links below still wait until you decide.",
                    size="2",
                ),
            ),
            paged_table(
                "pending links", ApprovalsState, HEADERS, _row,
                "No links are waiting for approval.",
            ),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _approval_queue() -> rx.Component:
    return rx.vstack(
        rx.text(
            "With Require approval for links on (",
            rx.link("Settings", href=routes.ORG_SETTINGS, underline="always"),
            "), links that Agents and Billing Admins create wait here: they count toward "
            "usage but do not redirect until approved. Rejecting deletes the link.",
            size="2",
        ),
        rx.cond(ApprovalsState.error != "", form_error(ApprovalsState.error), _queue()),
        spacing="4",
        width="100%",
    )


def approval_section() -> rx.Component:
    """The queue for the Owner and Admins; for anyone else, who decides."""
    return if_allowed(AppState.caps.approve_links, _approval_queue(),
                      read_only_note(NOT_AN_APPROVER, note_id="approvals-read-only"))  # fmt: skip
