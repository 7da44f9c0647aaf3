"""The organization's API keys card on /organization/settings (SPEC §17): Owner/Admin.

List (a page at a time), create with scopes and an optional expiry, rotate, revoke; every
rule is in `services/organization_keys.py`. A new or rotated secret exists only in
`new_secret` of this tab's state right after the action; `_load` clears it, so a reload or
a later visit never shows it again (only its prefix).
"""

import dataclasses
from datetime import timedelta
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.models import OrganizationApiKey
from orgportal.models.base import utcnow
from orgportal.services import organization_keys, two_factor
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.paging import Paged

PAGE_SIZE = 10


@dataclasses.dataclass
class ScopeOption:
    code: str
    label: str
    description: str


@dataclasses.dataclass
class OrgKeyRow:
    id: int
    name: str
    prefix: str
    scopes: str
    created: str
    expires: str  # "Never", "6 Dec 2026" (works through that day, UTC), "Expired 6 Dec 2026"
    expired: bool
    last_used: str  # "Never" or "6 Dec 2026, 12:40 UTC from 203.0.113.9"


SCOPE_OPTIONS = [
    ScopeOption(scope.code, scope.label, scope.description)
    for scope in organization_keys.SCOPES.values()
]


class OrganizationKeysState(Paged, AppState):
    PAGE_SIZE: ClassVar[int] = PAGE_SIZE
    org_keys: list[OrgKeyRow] = []
    scope_options: list[ScopeOption] = SCOPE_OPTIONS
    new_secret: str = ""
    new_secret_name: str = ""
    new_secret_action: str = ""  # "created" or "rotated"
    key_errors: dict[str, str] = {}
    key_form: int = 0
    CREATE_FORM: ClassVar[Form] = Form(errors="key_errors", general="key_name", key="key_form")
    has_two_factor: bool = False  # then a current code may stand in for the password
    # The Rotate dialog: the key it is for (0: closed), and its refusals.
    rotating_id: int = 0
    rotating_name: str = ""
    rotate_errors: dict[str, str] = {}
    # the dialog's own field names (the create form has key_password / key_code too)
    ROTATE_FORM: ClassVar[Form] = Form(
        errors="rotate_errors",
        general="rotate_password",
        names={"key_password": "rotate_password", "key_code": "rotate_code"},
    )

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.new_secret, self.new_secret_name, self.new_secret_action = "", "", ""
        self.has_two_factor = two_factor.is_enabled(session, viewer.user.id)
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.org_keys, self.total, self.page = [], 0, 0
            return
        rows = self._read_page(
            lambda limit, offset: organization_keys.list_keys(
                session, user=viewer.user, organization_id=org_id, limit=limit, offset=offset
            )
        )
        self.org_keys = [_row(key) for key in rows]

    def _show_secret(self, made: tuple[str, OrganizationApiKey], action: str) -> None:
        """After the reload (which clears any secret shown before)."""
        raw, key = made
        self.new_secret, self.new_secret_name, self.new_secret_action = raw, key.name, action

    @rx.event
    def create_key(self, form: dict):
        scopes = [code for code in organization_keys.SCOPES if form.get(f"scope_{code}")]
        self.page = 0  # the new key is first
        outcome = self._act(
            organization_keys.create_key,
            form=self.CREATE_FORM,
            name=str(form.get("key_name", "")),
            scopes=scopes,
            expires_on=str(form.get("expires_on", "")),
            password=str(form.get("key_password", "")),
            code=str(form.get("key_code", "")),
        )
        if outcome.ok:
            self._show_secret(outcome.value, "created")
        return outcome.events

    @rx.event
    def ask_rotate(self, key_id: int):
        """Open the Rotate dialog for one key (it asks for the password)."""
        self.rotate_errors = {}
        self.rotating_id = key_id
        self.rotating_name = next((k.name for k in self.org_keys if k.id == key_id), "")

    @rx.event
    def rotate_dialog_changed(self, is_open: bool):
        if not is_open:  # Cancel, Escape
            self.rotating_id, self.rotating_name, self.rotate_errors = 0, "", {}

    @rx.event
    def rotate_key(self, form: dict):
        outcome = self._act(
            organization_keys.rotate_key,
            form=self.ROTATE_FORM,
            key_id=self.rotating_id,
            password=str(form.get("rotate_password", "")),
            code=str(form.get("rotate_code", "")),
        )
        if outcome.ok:
            self.rotating_id, self.rotating_name = 0, ""
            self._show_secret(outcome.value, "rotated")
        return outcome.events

    @rx.event
    def revoke_key(self, key_id: int):
        name = next((k.name for k in self.org_keys if k.id == key_id), "the key")
        return self._run(
            lambda s, v: organization_keys.revoke_key(
                s, user=v.user, organization_id=v.session.active_org_id, key_id=key_id
            ),
            done=f"Revoked {name}. It stops working now.",
        )

    @rx.event
    def copy_secret(self):
        return [rx.set_clipboard(self.new_secret), rx.toast.success("API key copied.")]

    @rx.event
    def dismiss_secret(self):
        self.new_secret, self.new_secret_name, self.new_secret_action = "", "", ""


def _row(key: OrganizationApiKey) -> OrgKeyRow:
    expired = key.expires_at is not None and key.expires_at <= utcnow()
    if key.expires_at is None:
        expires = "Never"
    else:
        last_day = key.expires_at - timedelta(seconds=1)  # the day chosen on creation
        expires = ("Expired " if expired else "") + formatting.date(last_day)
    if key.last_used_at is None:
        last_used = "Never"
    else:
        last_used = formatting.date_time(key.last_used_at)
        if key.last_used_address:
            last_used += f" from {key.last_used_address}"
    return OrgKeyRow(
        id=key.id,
        name=key.name,
        prefix=f"{key.prefix}…",
        scopes=organization_keys.scope_labels(organization_keys.scope_codes(key)),
        created=formatting.date_time(key.created_at),
        expires=expires,
        expired=expired,
        last_used=last_used,
    )
