"""Members and invitations on the organization page."""

import dataclasses

import reflex as rx

from orgportal.db import unit_of_work
from orgportal.models import Role
from orgportal.models.base import utcnow
from orgportal.services import invitations, members
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.services.permissions import ASSIGNABLE_ROLES, Permission, has_permission
from orgportal.state.base import AppState

ROLE_BY_LABEL = {role.label: role for role in Role}
INVITE_ROLE_LABELS = [role.label for role in ASSIGNABLE_ROLES]


@dataclasses.dataclass
class MemberRow:
    user_id: int
    name: str
    email: str
    role: str
    joined: str
    is_owner: bool
    is_me: bool


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
    my_role: str = ""
    invite_error: str = ""
    invite_errors: dict[str, str] = {}
    resend_offer_id: int = 0
    form_key: int = 0

    @rx.var
    def can_manage(self) -> bool:
        return bool(self.my_role) and has_permission(self.my_role, Permission.MANAGE_MEMBERS)

    @rx.var
    def can_invite(self) -> bool:
        return self.can_manage or self.my_role == Role.AGENT

    @rx.var
    def invite_role_labels(self) -> list[str]:
        return INVITE_ROLE_LABELS if self.can_manage else [Role.AGENT.label]

    @rx.var
    def i_am_owner(self) -> bool:
        return self.my_role == Role.OWNER

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org_id = viewer.session.active_org_id
                if not org_id:
                    return
                listed = members.list_members(session, user=viewer.user, organization_id=org_id)
                pending = invitations.list_invites(
                    session, user=viewer.user, organization_id=org_id
                )
        except (NotAuthenticated, DomainError):
            return
        now = utcnow()
        self.members = [
            MemberRow(
                m.user_id,
                m.name,
                m.email,
                m.role.label,
                m.joined_at.strftime("%d %b %Y"),
                m.role == Role.OWNER,
                m.user_id == viewer.user.id,
            )
            for m in listed
        ]
        self.my_role = next((m.role.value for m in listed if m.user_id == viewer.user.id), "")
        self.invites = [
            InviteRow(
                i.id,
                i.email,
                Role(i.role).label,
                i.sent_at.strftime("%d %b %Y"),
                i.expires_at.strftime("%d %b %Y"),
                "Expired" if i.is_expired(now) else "Pending",
            )
            for i in pending
        ]

    @rx.event
    def send_invite(self, form: dict):
        self.invite_error, self.invite_errors, self.resend_offer_id = "", {}, 0
        role = ROLE_BY_LABEL.get(form.get("role", ""), Role.AGENT)
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                invite = invitations.create_invite(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id or 0,
                    email=form.get("email", ""),
                    role=role,
                )
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.invite_errors = exc.errors
            return
        except invitations.AlreadyInvited as exc:
            self.invite_error, self.resend_offer_id = exc.message, exc.invite_id
            return
        except DomainError as exc:
            self.invite_error = exc.message
            return
        self.form_key += 1
        return [MembersState.load, rx.toast.success(f"Invitation sent to {invite.email}.")]

    @rx.event
    def resend(self, invite_id: int):
        self.invite_error, self.resend_offer_id = "", 0
        return self._member_action(
            lambda s, u, org: invitations.resend_invite(
                s, user=u, organization_id=org, invite_id=invite_id
            ),
            "Invitation sent again.",
        )

    @rx.event
    def revoke(self, invite_id: int):
        return self._member_action(
            lambda s, u, org: invitations.revoke_invite(
                s, user=u, organization_id=org, invite_id=invite_id
            ),
            "Invitation revoked.",
        )

    @rx.event
    def change_role(self, user_id: int, label: str):
        role = ROLE_BY_LABEL.get(label, Role.VIEWER)
        return self._member_action(
            lambda s, u, org: members.change_role(
                s, user=u, organization_id=org, member_id=user_id, role=role
            ),
            f"Role changed to {label}.",
        )

    @rx.event
    def remove(self, user_id: int):
        return self._member_action(
            lambda s, u, org: members.remove_member(
                s, user=u, organization_id=org, member_id=user_id
            ),
            "Member removed.",
        )

    @rx.event
    def transfer_ownership(self, user_id: int):
        return self._member_action(
            lambda s, u, org: members.transfer_ownership(
                s, user=u, organization_id=org, member_id=user_id
            ),
            "Ownership transferred. You are now an Admin.",
            reload_page=True,
        )

    @rx.event
    def leave(self):
        return self._member_action(
            lambda s, u, org: members.leave(s, user=u, organization_id=org),
            "You left the organization.",
            reload_page=True,
        )

    def _member_action(self, action, success: str, reload_page: bool = False):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                action(session, viewer.user, viewer.session.active_org_id or 0)
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        if reload_page:
            return [rx.redirect("/organization"), rx.toast.success(success)]
        return [MembersState.load, rx.toast.success(success)]
