"""The Members sub-page: members, the Invite Members form and pending invites.

Every handler runs its use case through `AppState._run` (most through its shorthand `_act`);
what the viewer may do comes from `AppState.caps` (computed by the services), never from a
rule of its own.
"""

import dataclasses

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.models import Role
from orgportal.models.base import utcnow
from orgportal.services import invitations, members, two_factor
from orgportal.services.accounts import Viewer
from orgportal.services.errors import ValidationFailed
from orgportal.state.base import AppState

ROLE_BY_LABEL = {role.label: role for role in Role}


def role_of(label: str) -> Role:
    """The role a label of the page names. A label the page never offered (a crafted event)
    is refused as a field error, never guessed."""
    role = ROLE_BY_LABEL.get(label)
    if role is None:
        raise ValidationFailed({"role": f"“{label}” is not a role. Choose one from the list."})
    return role


@dataclasses.dataclass
class MemberRow:
    user_id: int
    name: str
    email: str
    role: str
    joined: str
    is_owner: bool
    is_me: bool
    two_factor: str = ""  # "On"/"Off", filled for Owners/Admins only (SPEC §13)


@dataclasses.dataclass
class InviteRow:
    id: int
    email: str
    role: str
    sent: str
    expires: str
    status: str


class MembersState(AppState):
    members: list[MemberRow] = []
    invites: list[InviteRow] = []
    member_errors: dict[str, str] = {}  # a refused role change ("role")
    invite_errors: dict[str, str] = {}  # "email", "role", or "form" for the whole invite
    resend_offer_id: int = 0
    form_key: int = 0

    @rx.var
    def can_manage(self) -> bool:
        return self.caps.manage_members

    @rx.var
    def can_invite(self) -> bool:
        return bool(self.caps.invite_roles)

    @rx.var
    def invite_role_labels(self) -> list[str]:
        return [Role(value).label for value in self.caps.invite_roles]

    @rx.var
    def i_am_owner(self) -> bool:
        return self.caps.role == "owner"

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id:
            self.members, self.invites = [], []
            return
        listed = members.list_members(session, user=viewer.user, organization_id=org_id)
        pending = invitations.list_invites(session, user=viewer.user, organization_id=org_id)
        now = utcnow()
        self.members = [
            MemberRow(
                m.user_id,
                m.name,
                m.email,
                m.role.label,
                formatting.date(m.joined_at),
                m.role == Role.OWNER,
                m.user_id == viewer.user.id,
            )
            for m in listed
        ]
        if self.caps.manage_members:
            on = two_factor.enabled_user_ids(session, [m.user_id for m in listed])
            for row in self.members:
                row.two_factor = "On" if row.user_id in on else "Off"
        self.invites = [
            InviteRow(
                i.id,
                i.email,
                Role(i.role).label,
                formatting.date(i.sent_at),
                formatting.date(i.expires_at),
                "Expired" if i.is_expired(now) else "Pending",
            )
            for i in pending
        ]

    @rx.event
    def send_invite(self, form: dict):
        sent, offered = "", 0

        def action(session: Session, viewer: Viewer) -> None:
            nonlocal sent, offered
            try:
                invite = invitations.create_invite(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id or 0,
                    email=form.get("email", ""),
                    role=role_of(form.get("role", "")),
                )
            except invitations.AlreadyInvited as exc:
                offered = exc.invite_id
                raise
            sent = invite.email

        events = self._run(action, errors="invite_errors", field="form")
        self.resend_offer_id = offered
        if not sent or self.invite_errors:
            return events
        self.form_key += 1  # after the reload: the new form starts empty
        return rx.toast.success(f"Invitation sent to {sent}.")

    @rx.event
    def resend(self, invite_id: int):
        self.resend_offer_id = 0
        return self._act(
            invitations.resend_invite,
            done="Invitation sent again.",
            errors="invite_errors",
            field="form",
            invite_id=invite_id,
        )

    @rx.event
    def revoke(self, invite_id: int):
        return self._act(invitations.revoke_invite, done="Invitation revoked.", invite_id=invite_id)

    @rx.event
    def change_role(self, user_id: int, label: str):
        return self._run(
            lambda session, viewer: members.change_role(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id or 0,
                member_id=user_id,
                role=role_of(label),
            ),
            done=f"Role changed to {label}.",
            errors="member_errors",
        )

    @rx.event
    def remove(self, user_id: int):
        return self._act(members.remove_member, done="Member removed.", member_id=user_id)

    @rx.event
    def transfer_ownership(self, user_id: int):
        """The viewer's own role changes, so the whole page (and `caps`) loads again."""
        events = self._act(members.transfer_ownership, reload=False, member_id=user_id)
        if events is not None:  # refused, or signed out
            return events
        return [
            AppState.load_page(routes.ORG_MEMBERS),
            rx.toast.success("Ownership transferred. You are now an Admin."),
        ]

    @rx.event
    def leave(self):
        """Leaving ends this workspace: back to the organization page (the Personal one)."""
        events = self._act(members.leave, reload=False)
        if events is not None:  # refused, or signed out
            return events
        return [rx.redirect(routes.ORGANIZATION), rx.toast.success("You left the organization.")]
