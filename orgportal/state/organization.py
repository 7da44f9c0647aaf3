"""The organization: create form, header, Details form, settings and the danger zone."""

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.models import Role
from orgportal.services import accounts, files, logos, organizations
from orgportal.services.accounts import Viewer
from orgportal.services.errors import NotFound, ValidationFailed
from orgportal.services.organizations import OrganizationSettings
from orgportal.services.validation import FieldError
from orgportal.state.base import AppState
from orgportal.state.event_threads import in_thread
from orgportal.state.outcome import Form


@dataclasses.dataclass
class LogoChoice:
    id: str
    name: str


@dataclasses.dataclass
class OrganizationChoice:
    """One of the viewer's organizations, listed on the Personal Workspace's overview."""

    id: int
    name: str
    role_label: str


# The drop zone's refusal codes, in the words `logos.store_upload` uses for the same cases.
NOT_AN_IMAGE = "The logo must be a PNG, JPEG, WebP or GIF image."
LOGO_REFUSALS = {
    "file-too-large": "The logo must be 2 MB or smaller.",
    "too-many-files": "Choose one image for the logo.",
    "file-invalid-type": NOT_AN_IMAGE,
}


def _logo(store: Callable[[], str]) -> str:
    """A stored logo's URL, or its refusal as the logo field's message."""
    try:
        return store()
    except FieldError as exc:
        raise ValidationFailed({"logo_url": str(exc)}) from exc


class OrgState(AppState):
    org_id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    logo_url: str = ""
    role: str = ""
    member_count: int = 0
    created_at: str = ""

    errors: dict[str, str] = {}
    logo_draft: str = ""  # an uploaded or picked logo, used when the form is saved
    logo_removed: bool = False  # Remove pressed: the next save of Details drops the logo
    logo_choices: list[LogoChoice] = []
    # The Details and Settings forms' keys. Their inputs are uncontrolled: they read the
    # values only when they mount (REFLEX_NOTES §11). So a key changes only in the same event
    # that has just set the values: after each successful save (the form then shows what was
    # saved, as the service stored it), and when a page load finds values other than those
    # shown. A refused save changes nothing: the form keeps what was typed.
    profile_key: int = 0
    settings_key: int = 0
    FORM: ClassVar[Form] = Form(errors="errors")
    LOGO_FORM: ClassVar[Form] = Form(errors="errors", general="logo_url")
    PROFILE_FORM: ClassVar[Form] = Form(errors="errors", key="profile_key")
    SETTINGS_FORM: ClassVar[Form] = Form(errors="errors", key="settings_key")
    DELETE_FORM: ClassVar[Form] = Form(errors="errors", general="confirm_name")

    allow_members_to_invite: bool = False
    require_approval_for_links: bool = False
    default_attribution_window: str = "168"

    delete_confirm: str = ""
    # The Personal Workspace's overview: the viewer's organizations, the most
    # recently used first. Empty: `/organization` shows the create form instead.
    my_organizations: list[OrganizationChoice] = []

    @rx.var
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    @rx.var
    def logo_external_url(self) -> str:
        """The Logo URL field's value: an https address typed before, never the internal
        path of an uploaded image (the form says "Uploaded image" instead)."""
        return "" if self.logo_url.startswith(logos.URL_PREFIX) else self.logo_url

    @rx.var
    def logo_image(self) -> str:
        """The uploaded image the Details form shows (and keeps when saved): the one just
        uploaded or picked, else the saved one unless Remove was pressed."""
        if self.logo_draft:
            return self.logo_draft
        kept = self.logo_url.startswith(logos.URL_PREFIX) and not self.logo_removed
        return self.logo_url if kept else ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        shown = self._profile(), self._settings()
        self.errors, self.logo_draft, self.delete_confirm = {}, "", ""
        self.logo_removed = False
        view = self._organization(session, viewer)
        self.org_id = view.organization.id if view else 0
        if view is not None:
            self._show(view)
        else:
            self.name = self.slug = self.description = self.logo_url = self.role = ""
        self.my_organizations = [] if view is not None else self._my_organizations(session, viewer)
        self.logo_choices = self._logo_choices(session, viewer) if self._picks_logo() else []
        self.profile_key += self._profile() != shown[0]
        self.settings_key += self._settings() != shown[1]

    def _profile(self) -> tuple:
        return self.org_id, self.name, self.description, self.logo_url

    def _settings(self) -> tuple:
        return (
            self.org_id,
            self.allow_members_to_invite,
            self.require_approval_for_links,
            self.default_attribution_window,
        )

    @staticmethod
    def _organization(session: Session, viewer: Viewer) -> organizations.OrganizationView | None:
        """The active organization, or None (Personal Workspace, or no longer a member)."""
        if not viewer.session.active_org_id:
            return None
        try:
            return organizations.get_organization(
                session, user=viewer.user, organization_id=viewer.session.active_org_id
            )
        except NotFound:
            return None

    @staticmethod
    def _my_organizations(session: Session, viewer: Viewer) -> list[OrganizationChoice]:
        """The organizations to open from the Personal Workspace, in the switcher's order."""
        return [
            OrganizationChoice(id=w.organization_id, name=w.name, role_label=Role(w.role).label)
            for w in accounts.list_workspaces(session, viewer.user)
            if w.organization_id is not None
        ]

    def _show(self, view: organizations.OrganizationView) -> None:
        org = view.organization
        self.name, self.slug, self.description = org.name, org.slug, org.description
        self.logo_url, self.role = org.logo_url, view.role.value
        self.member_count = view.member_count
        self.created_at = formatting.date(org.created_at)
        self.allow_members_to_invite = org.allow_members_to_invite
        self.require_approval_for_links = org.require_approval_for_links
        self.default_attribution_window = str(org.default_attribution_window)

    def _picks_logo(self) -> bool:
        """The logo picker is shown by the create form and by the Settings page's Details."""
        if not self.org_id:
            return True
        here = self._page_path()
        if here == routes.ORG_NEW:
            return True
        return self.caps.edit_organization and here == routes.ORG_SETTINGS

    @staticmethod
    def _logo_choices(session: Session, viewer: Viewer) -> list[LogoChoice]:
        """Images from My Files: the active workspace's and the user's personal ones."""
        found: dict[str, str] = {}
        for workspace in {viewer.session.active_org_id, None}:
            images, _ = files.list_files(
                session, user=viewer.user, organization_id=workspace, images_only=True
            )
            found.update({str(f.id): f.name for f in images})
        return [LogoChoice(id=k, name=v) for k, v in found.items()]

    @rx.event
    def create(self, form: dict):
        def action(session: Session, viewer: Viewer) -> str:
            org = organizations.create_organization(
                session,
                user=viewer.user,
                name=form.get("name", ""),
                description=form.get("description", ""),
                logo_url=self.logo_draft or form.get("logo_url", ""),
            )
            # active now, and the workspace the next sign-in opens (SPEC §1)
            accounts.switch_workspace(session, viewer, org.id)
            return org.name

        outcome = self._attempt(action, form=self.FORM, reload=False)
        if not outcome.ok:
            return outcome.events
        self.logo_draft = ""
        # the whole overview (workspaces, usage, plan) now shows the new organization
        here = self.router.url.path.rstrip("/")
        return [
            rx.redirect(routes.ORGANIZATION)
            if here == routes.ORG_NEW
            else AppState.load_page(routes.ORGANIZATION),
            rx.toast.success(f"Created {outcome.value}. You are its Owner."),
        ]

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        """Verify and store an uploaded logo; it is used when the form is saved. Only for a
        signed-in user: the stored image is served publicly."""
        if not files:
            return None
        data = await files[0].read(logos.MAX_BYTES + 1)

        def store(session: Session, viewer: Viewer) -> None:
            self.logo_draft = _logo(lambda: logos.store_upload(data))

        return await in_thread(self._run, store, form=self.FORM, reload=False)

    def _upload_refused(self, message: str) -> None:
        """The upload gate refused the logo before reading it (`api/uploads.py`):
        the reason goes beside the logo control, as the browser's upload call drops it."""
        self.errors = {**self.errors, "logo_url": message}

    @rx.event
    def refuse_logo(self, rejected: list[dict]):
        """The drop zone refused the chosen file (`components/dropzone.py`): why, in our
        words, beside the logo control (react-dropzone's own text is never shown)."""
        codes = {code for item in rejected for code in (item.get("codes") or [])}
        reason = next((LOGO_REFUSALS[c] for c in LOGO_REFUSALS if c in codes), NOT_AN_IMAGE)
        self.errors = {**self.errors, "logo_url": reason}

    @rx.event
    def remove_logo(self):
        """Drop the uploaded image from the form; saving the form then removes the logo."""
        self.logo_draft, self.logo_removed = "", True
        self.errors = {k: v for k, v in self.errors.items() if k != "logo_url"}

    @rx.event
    def pick_logo(self, file_id: str):
        if not file_id.isdigit():
            return None

        def pick(session: Session, viewer: Viewer) -> None:
            self.logo_draft = _logo(
                lambda: logos.store_from_my_files(session, user=viewer.user, file_id=int(file_id))
            )

        return self._run(pick, form=self.LOGO_FORM, reload=False)

    @rx.event
    def save_profile(self, form: dict):
        # saved: the form mounts again with the values as saved (trimmed, logo stored)
        return self._run(
            lambda session, viewer: organizations.update_profile(
                session,
                user=viewer.user,
                organization_id=self.org_id,
                name=form.get("name", ""),
                description=form.get("description", ""),
                logo_url=self.logo_image or form.get("logo_url", ""),
            ),
            form=self.PROFILE_FORM,
            done="Organization updated.",
        )

    @rx.event
    def save_settings(self, form: dict):
        def action(session: Session, viewer: Viewer) -> None:
            try:
                window = int(form.get("default_attribution_window", "") or 0)
            except ValueError:
                raise ValidationFailed(
                    {"default_attribution_window": "Enter a whole number of hours."}
                ) from None
            new = OrganizationSettings(
                allow_members_to_invite=form.get("allow_members_to_invite") == "on",
                require_approval_for_links=form.get("require_approval_for_links") == "on",
                default_attribution_window=window,
            )
            organizations.update_settings(
                session, user=viewer.user, organization_id=self.org_id, new=new
            )

        return self._run(action, form=self.SETTINGS_FORM, done="Settings saved.")

    @rx.event
    def set_delete_confirm(self, value: str):
        self.delete_confirm = value

    @rx.event
    def delete_organization(self):
        name = self.name
        outcome = self._attempt(
            lambda session, viewer: organizations.delete_organization(
                session,
                user=viewer.user,
                organization_id=self.org_id,
                confirm_name=self.delete_confirm,
            ),
            form=self.DELETE_FORM,
            reload=False,
        )
        if not outcome.ok:
            return outcome.events
        self.delete_confirm, self.org_id = "", 0
        # the active workspace moved in the server-side session: a client-side page change
        return [rx.redirect(routes.ORGANIZATION), rx.toast.success(f"Deleted {name}.")]
