"""Sections of the organization page bound to OrgState."""

import reflex as rx

from orgportal.components.badges import status_badge
from orgportal.components.confirm import action_button, confirm_dialog
from orgportal.components.dropzone import rejected_files
from orgportal.components.forms import field_error, native_select, text_area_field, text_field
from orgportal.components.read_only import read_only_note
from orgportal.services import logos
from orgportal.state.base import AppState
from orgportal.state.organization import OrgState

LOGO_UPLOAD_ID = "logo-upload"


def _uploaded_logo(image: rx.Var) -> rx.Component:
    """An uploaded (or picked) image in use: shown as such, with Remove, never as
    the internal address it is served from."""
    return rx.hstack(
        rx.image(
            src=image,
            height="40px",
            max_width="120px",
            object_fit="contain",
            alt="Uploaded logo",
            border="1px solid var(--gray-a5)",
            border_radius="var(--radius-2)",
        ),
        rx.vstack(
            rx.text("Uploaded image", size="2", weight="medium", id="logo-uploaded"),
            rx.cond(
                OrgState.logo_draft != "",
                rx.text("Uploaded logo will be used when you save.", size="1"),
            ),
            spacing="0",
        ),
        rx.button(
            rx.icon("trash-2", size=14, aria_hidden="true"),
            "Remove",
            type="button",
            size="1",
            variant="soft",
            color_scheme="red",
            aria_label="Remove logo",
            on_click=OrgState.remove_logo,
        ),
        align="center",
        spacing="3",
        wrap="wrap",
    )


def logo_inputs(saved: bool = False) -> rx.Component:
    """Logo by https URL or by upload (verified server-side by decoding the image). `saved`:
    the Details form of an existing organization, whose saved logo may be an uploaded one;
    the create form has only what was just uploaded or picked."""
    image = OrgState.logo_image if saved else OrgState.logo_draft
    return rx.vstack(
        rx.cond(
            image != "",
            rx.vstack(
                rx.text("Logo", size="2", weight="medium"),
                _uploaded_logo(image),
                spacing="1",
                width="100%",
            ),
            text_field(
                "Logo URL",
                "logo_url",
                default_value=OrgState.logo_external_url if saved else "",
                placeholder="https://example.com/logo.png",
            ),
        ),
        # The label names the dropzone's file input (and opens it); the dropzone itself
        # takes drops and the keyboard, not clicks, so one click opens one file chooser.
        rx.el.label(
            rx.upload.root(
                rx.hstack(
                    rx.icon("upload", size=16),
                    rx.text(
                        rx.cond(image != "", "Replace with another image", "Upload logo"),
                        " (PNG, JPEG, WebP, GIF; 2 MB)",
                        size="2",
                    ),
                ),
                id=LOGO_UPLOAD_ID,
                accept={
                    "image/png": [".png"],
                    "image/jpeg": [".jpg", ".jpeg"],
                    "image/webp": [".webp"],
                    "image/gif": [".gif"],
                },
                max_files=1,
                max_size=logos.MAX_BYTES,  # refused before sending, in our words
                multiple=False,
                no_click=True,
                on_drop=OrgState.upload_logo(rx.upload_files(upload_id=LOGO_UPLOAD_ID)),
                on_drop_rejected=lambda rejected: OrgState.refuse_logo(rejected_files(rejected)),
                border="1px dashed var(--gray-a7)",
                padding="0.75em",
                border_radius="8px",
                width="100%",
                cursor="pointer",
            ),
            width="100%",
        ),
        rx.cond(
            OrgState.logo_choices.length() > 0,
            rx.vstack(
                rx.el.label(
                    "Pick from My Files",
                    html_for="logo-pick",
                    class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                ),
                native_select(
                    rx.el.option("Choose an image…", value=""),
                    rx.foreach(
                        OrgState.logo_choices,
                        lambda choice: rx.el.option(choice.name, value=choice.id),
                    ),
                    id="logo-pick",
                    name="logo_pick",
                    default_value="",
                    on_change=OrgState.pick_logo,
                ),
                spacing="1",
            ),
        ),
        field_error(OrgState.errors, "logo_url"),
        width="100%",
        spacing="2",
    )


def create_organization_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Create an organization", size="5"),
                rx.text(
                    "Organizations share a plan, members and a support desk. "
                    "You become its Owner and it opens as your active workspace.",
                    color_scheme="gray",
                    size="2",
                ),
                text_field(
                    "Organization Name",
                    "name",
                    OrgState.errors,
                    required=True,
                    placeholder="Acme Marketing Team",
                ),
                text_area_field("Description", "description", OrgState.errors),
                logo_inputs(),
                rx.button("Create Organization", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=OrgState.create,
            reset_on_submit=False,
        ),
        width="100%",
    )


def organization_header() -> rx.Component:
    """The overview's header: logo, name, role, description (edited under Settings)."""
    return rx.card(
        rx.hstack(
            rx.cond(
                OrgState.logo_url != "",
                rx.image(src=OrgState.logo_url, height="56px", alt="Logo"),
                rx.avatar(fallback=OrgState.name.to(str)[:2], size="5"),
            ),
            rx.vstack(
                rx.hstack(
                    rx.heading(OrgState.name, size="6"),
                    status_badge(OrgState.role_label, id="role-badge", size="2"),
                    align="center",
                ),
                rx.text(OrgState.description, color_scheme="gray"),
                rx.text(
                    "Slug: ",
                    rx.code(OrgState.slug, id="org-slug"),
                    " · ",
                    OrgState.member_count,
                    rx.cond(OrgState.member_count == 1, " member", " members"),
                    " · created ",
                    OrgState.created_at,
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            align="center",
            width="100%",
        ),
        width="100%",
    )


# Who may not edit the organization reads who can, where the forms would be.
NOT_AN_EDITOR = (
    "You can see this organization's details on its Overview. "
    "Ask an Admin to change its name, description, logo or settings."
)


def profile_card() -> rx.Component:
    """Name, description and logo (Owner/Admin edit; others read them on the overview)."""
    return rx.cond(
        ~AppState.caps.edit_organization,
        read_only_note(NOT_AN_EDITOR, note_id="settings-read-only"),
        _profile_form(),
    )


def _profile_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Details", size="4"),
                text_field(
                    "Organization Name", "name", OrgState.errors, default_value=OrgState.name
                ),
                text_area_field(
                    "Description",
                    "description",
                    OrgState.errors,
                    default_value=OrgState.description,
                ),
                logo_inputs(saved=True),
                rx.button("Save", type="submit"),
                width="100%",
            ),
            key=OrgState.profile_key,
            aria_label="Organization details",
            on_submit=OrgState.save_profile,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _setting_checkbox(label: str, name: str, checked: rx.Var) -> rx.Component:
    """A checkbox named by its own <label>, which also toggles it when clicked."""
    checkbox_id = f"setting-{name}"
    return rx.hstack(
        rx.checkbox(id=checkbox_id, name=name, default_checked=checked),
        rx.el.label(label, html_for=checkbox_id, class_name="rt-Text rt-r-size-2"),
        align="center",
        spacing="2",
    )


def settings_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Settings", size="4"),
                _setting_checkbox(
                    "Allow members to invite",
                    "allow_members_to_invite",
                    OrgState.allow_members_to_invite,
                ),
                _setting_checkbox(
                    "Require approval for links",
                    "require_approval_for_links",
                    OrgState.require_approval_for_links,
                ),
                text_field(
                    "Default attribution window (hours)",
                    "default_attribution_window",
                    OrgState.errors,
                    type="number",
                    default_value=OrgState.default_attribution_window,
                    aria_describedby="attribution-window-help",
                ),
                rx.text(
                    "How long after a click a conversion still counts, in hours "
                    "(default 168 = 7 days).",
                    id="attribution-window-help",
                    size="1",
                    color_scheme="gray",
                    margin_top="-0.5em",
                ),
                rx.button("Save Settings", type="submit", variant="soft"),
                spacing="3",
                width="100%",
            ),
            key=OrgState.settings_key,
            aria_label="Organization settings",
            on_submit=OrgState.save_settings,
            reset_on_submit=False,
        ),
        width="100%",
    )


def danger_zone() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Danger Zone", size="4", color_scheme="red"),
            rx.text(
                "Deleting the organization removes its members, invites, links, files, "
                "tickets, departments and domains, and cancels its subscriptions. "
                "It cannot be undone.",
                size="2",
            ),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Delete Organization", color_scheme="red")),
                confirm_dialog(
                    "Delete organization",
                    (
                        "Its members, invites, links, files, tickets, departments and domains "
                        "are deleted and its subscriptions canceled. Type ",
                        rx.text.strong(OrgState.name),
                        " to confirm.",
                    ),
                    rx.vstack(
                        rx.el.label(
                            "Organization name",
                            html_for="confirm-name",
                            class_name="rt-Text rt-r-size-2",
                        ),
                        rx.input(
                            id="confirm-name",
                            value=OrgState.delete_confirm,
                            on_change=OrgState.set_delete_confirm,
                        ),
                        field_error(OrgState.errors, "confirm_name"),
                        spacing="1",
                        margin_top="1em",
                    ),
                    actions=[
                        action_button(
                            "Delete Permanently",
                            disabled=OrgState.delete_confirm != OrgState.name,
                            on_click=OrgState.delete_organization,
                        )
                    ],
                ),
            ),
            spacing="3",
        ),
        width="100%",
        border="1px solid var(--red-a6)",
    )
