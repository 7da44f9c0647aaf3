"""The organization page: create form, profile, settings and the danger zone."""

import dataclasses

import reflex as rx

from orgportal import routes
from orgportal.adapters.billing import gateway_from_settings
from orgportal.config import settings as app_settings
from orgportal.db import unit_of_work
from orgportal.models import Role
from orgportal.services import files, logos, organizations
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.services.organizations import OrganizationSettings
from orgportal.services.permissions import Permission, has_permission
from orgportal.services.validation import FieldError
from orgportal.state.base import AppState, navigate


@dataclasses.dataclass
class LogoChoice:
    id: str
    name: str


class OrgState(AppState):
    loaded: bool = False
    org_id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    logo_url: str = ""
    role: str = ""
    member_count: int = 0
    created_at: str = ""

    errors: dict[str, str] = {}
    logo_draft: str = ""
    logo_choices: list[LogoChoice] = []
    editing_profile: bool = False

    allow_members_to_invite: bool = False
    require_approval_for_links: bool = False
    default_attribution_window: str = "168"

    delete_confirm: str = ""

    @rx.var
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    @rx.var
    def can_edit(self) -> bool:
        return bool(self.role) and has_permission(self.role, Permission.EDIT_ORGANIZATION)

    @rx.var
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @rx.var
    def can_view_audit(self) -> bool:
        return bool(self.role) and has_permission(self.role, Permission.VIEW_AUDIT_LOG)

    @rx.event
    def load(self):
        self.errors = {}
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                self.org_id = viewer.session.active_org_id or 0
                if self.org_id:
                    self._show(
                        organizations.get_organization(
                            session, user=viewer.user, organization_id=self.org_id
                        )
                    )
        except NotAuthenticated:
            return self._to_login()
        except DomainError:
            self.org_id = 0
        self.loaded = True

    def _show(self, view: organizations.OrganizationView) -> None:
        org = view.organization
        self.name, self.slug, self.description = org.name, org.slug, org.description
        self.logo_url, self.role, self.member_count = (
            org.logo_url,
            view.role.value,
            view.member_count,
        )
        self.created_at = org.created_at.strftime("%d %b %Y")
        self.allow_members_to_invite = org.allow_members_to_invite
        self.require_approval_for_links = org.require_approval_for_links
        self.default_attribution_window = str(org.default_attribution_window)

    @rx.event
    def create(self, form: dict):
        self.errors = {}
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org = organizations.create_organization(
                    session,
                    user=viewer.user,
                    name=form.get("name", ""),
                    description=form.get("description", ""),
                    logo_url=self.logo_draft or form.get("logo_url", ""),
                )
                viewer.session.active_org_id = org.id
                session.add(viewer.session)
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        self.logo_draft = ""
        return [OrgState.load, rx.toast.success(f"Created {org.name}. You are its Owner.")]

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        """Verify and store an uploaded logo; it is used when the form is saved. Only for a
        signed-in user: the stored image is served publicly."""
        try:
            with unit_of_work() as session:
                self._viewer(session)
        except NotAuthenticated:
            return self._to_login()
        self.errors = {k: v for k, v in self.errors.items() if k != "logo_url"}
        for file in files[:1]:
            data = await file.read(logos.MAX_BYTES + 1)
            try:
                self.logo_draft = logos.store_upload(
                    data, logos.logos_dir()
                )
            except FieldError as exc:
                self.errors = {**self.errors, "logo_url": str(exc)}

    @rx.event
    def start_edit_profile(self):
        self.errors, self.logo_draft, self.editing_profile = {}, "", True
        return OrgState.load_logo_choices

    @rx.event
    def load_logo_choices(self):
        """Images from My Files: the active workspace's and the user's personal ones."""
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                found = {}
                for workspace in {viewer.session.active_org_id, None}:
                    images, _ = files.list_files(
                        session, user=viewer.user, organization_id=workspace, images_only=True
                    )
                    found.update({str(f.id): f.name for f in images})
        except DomainError:
            found = {}
        self.logo_choices = [LogoChoice(id=k, name=v) for k, v in found.items()]

    @rx.event
    def pick_logo(self, file_id: str):
        if not file_id.isdigit():
            return
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                self.logo_draft = logos.store_from_my_files(
                    session,
                    user=viewer.user,
                    file_id=int(file_id),
                    files_dir=app_settings.files_dir,
                    directory=logos.logos_dir(),
                )
        except FieldError as exc:
            self.errors = {**self.errors, "logo_url": str(exc)}
        except DomainError as exc:
            self.errors = {**self.errors, "logo_url": exc.message}

    @rx.event
    def cancel_edit_profile(self):
        self.errors, self.logo_draft, self.editing_profile = {}, "", False

    @rx.event
    def save_profile(self, form: dict):
        return self._apply(
            lambda session, user: organizations.update_profile(
                session,
                user=user,
                organization_id=self.org_id,
                name=form.get("name", ""),
                description=form.get("description", ""),
                logo_url=self.logo_draft or form.get("logo_url", ""),
            ),
            "Organization updated.",
            close_profile=True,
        )

    @rx.event
    def save_settings(self, form: dict):
        try:
            window = int(form.get("default_attribution_window", "") or 0)
        except ValueError:
            self.errors = {"default_attribution_window": "Enter a whole number of hours."}
            return
        new = OrganizationSettings(
            allow_members_to_invite=form.get("allow_members_to_invite") == "on",
            require_approval_for_links=form.get("require_approval_for_links") == "on",
            default_attribution_window=window,
        )
        return self._apply(
            lambda session, user: organizations.update_settings(
                session, user=user, organization_id=self.org_id, new=new
            ),
            "Settings saved.",
        )

    @rx.event
    def set_delete_confirm(self, value: str):
        self.delete_confirm = value

    @rx.event
    def delete_organization(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                organizations.delete_organization(
                    session,
                    user=viewer.user,
                    organization_id=self.org_id,
                    confirm_name=self.delete_confirm,
                    gateway=gateway_from_settings(session),
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.errors = getattr(exc, "errors", {"confirm_name": exc.message})
            return
        name, self.delete_confirm, self.org_id = self.name, "", 0
        return [navigate(routes.ORGANIZATION), rx.toast.success(f"Deleted {name}.")]

    def _apply(self, change, success: str, close_profile: bool = False):
        """Run one service call for the current user and refresh, or show its refusal."""
        self.errors = {}
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                change(session, viewer.user)
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except DomainError as exc:
            return rx.toast.error(exc.message)
        if close_profile:
            self.editing_profile, self.logo_draft = False, ""
        return [OrgState.load, rx.toast.success(success)]
