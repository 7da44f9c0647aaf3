"""The SCIM provisioning card on /organization/settings (SPEC §16): the base URL for the
identity provider, Generate token (shown once), Revoke. Owner/Admin only; a locked note
naming the Unlimited plan on other plans.

The full token exists only in `new_token` of this tab's state right after generation;
`_load` clears it, so a reload or a later visit never shows it again (only its prefix).
"""

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.services import scim_tokens
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState


class ScimState(AppState):
    shown: bool = False  # the viewer may manage it (Owner/Admin of an organization)
    available: bool = False
    plan_name: str = ""
    base_url: str = ""
    prefix: str = ""
    created: str = ""
    last_used: str = ""
    new_token: str = ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.new_token = ""
        org_id = viewer.session.active_org_id
        self.shown = bool(org_id) and self.caps.manage_members
        if not self.shown:
            return
        setup = scim_tokens.read_setup(session, user=viewer.user, organization_id=org_id)
        self.available, self.plan_name, self.base_url = (
            setup.available, setup.plan_name, setup.base_url,
        )  # fmt: skip
        self.prefix = f"{setup.prefix}…" if setup.prefix else ""
        self.created = formatting.date_time(setup.created_at)
        self.last_used = formatting.date_time(setup.last_used_at) if setup.last_used_at else "Never"

    @rx.event
    def generate(self):
        outcome = self._act(scim_tokens.generate_token)
        if outcome.ok:  # after the reload, which clears any token shown before
            self.new_token = outcome.value
        return outcome.events

    @rx.event
    def dismiss_token(self):
        self.new_token = ""

    @rx.event
    def revoke(self):
        return self._act(
            scim_tokens.revoke_token,
            done="SCIM token revoked: the identity provider can no longer provision.",
        ).events
