"""The Members sub-page: members, the Invite Members form and pending invites.

Every handler runs its use case through `AppState._run` (most through its shorthand `_act`);
what the viewer may do comes from `AppState.caps` (computed by the services), never from a
rule of its own.
"""

import dataclasses
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.models import Role
from orgportal.models.base import utcnow
from orgportal.services import invitations, members, two_factor
from orgportal.services.accounts import Viewer
from orgportal.services.errors import NoSeatsAvailable, ValidationFailed
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.wording import count

ROLE_BY_LABEL = {role.label: role for role in Role}
PAGE_SIZE = 25
INVITE_PAGE_SIZE = 10  # pending invites are a short to-do list beside the members
SORT_LABELS = {"Joined": "joined", "Name": "name", "Email": "email", "Role": "role"}


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
    joined: str  # who is the Owner, and who is me: the view compares role and email
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
    seats_offer: bool = False  # the invite was refused for want of a seat: offer Add seats
    resend_offer_id: int = 0
    form_key: int = 0
    INVITE_FORM: ClassVar[Form] = Form(errors="invite_errors", general="form", key="form_key")
    RESEND_FORM: ClassVar[Form] = Form(errors="invite_errors", general="form")
    ROLE_FORM: ClassVar[Form] = Form(errors="member_errors")
    # Both lists are read a page at a time on the server (a big organization's thousand
    # members never reach the page at once); the search and sort run in the database.
    member_query: str = ""
    member_sort: str = "Joined"
    member_page: int = 0
    member_total: int = 0
    invite_page: int = 0
    invite_total: int = 0

    @rx.var
    def member_total_label(self) -> str:
        """ "31 members", or while searching "3 found"."""
        if self.member_query.strip():
            return f"{self.member_total:,} found"
        return count(self.member_total, "member")

    @rx.var
    def member_page_count(self) -> int:
        return max(1, -(-self.member_total // PAGE_SIZE))

    @rx.var
    def invite_page_count(self) -> int:
        return max(1, -(-self.invite_total // INVITE_PAGE_SIZE))

    @rx.var
    def member_sort_labels(self) -> list[str]:
        return list(SORT_LABELS)

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
        listed = self._members_page(session, viewer, org_id)
        pending = self._invites_page(session, viewer, org_id)
        now = utcnow()
        self.members = [
            MemberRow(
                m.user_id,
                m.name,
                m.email,
                m.role.label,
                formatting.date(m.joined_at),
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

    def _members_page(self, session: Session, viewer: Viewer, org_id: int) -> list:
        def read() -> list:
            found, self.member_total = members.page_members(
                session,
                user=viewer.user,
                organization_id=org_id,
                query=self.member_query,
                sort=SORT_LABELS.get(self.member_sort, "joined"),
                limit=PAGE_SIZE,
                offset=self.member_page * PAGE_SIZE,
            )
            return found

        found = read()
        if not found and self.member_page > 0:  # the last page emptied: show the new last one
            self.member_page = self.member_page_count - 1
            found = read()
        return found

    def _invites_page(self, session: Session, viewer: Viewer, org_id: int) -> list:
        def read() -> list:
            found, self.invite_total = invitations.page_invites(
                session,
                user=viewer.user,
                organization_id=org_id,
                limit=INVITE_PAGE_SIZE,
                offset=self.invite_page * INVITE_PAGE_SIZE,
            )
            return found

        found = read()
        if not found and self.invite_page > 0:
            self.invite_page = self.invite_page_count - 1
            found = read()
        return found

    @rx.event
    def search_members(self, query: str):
        self.member_query, self.member_page = str(query)[:100], 0
        return self._refresh()

    @rx.event
    def sort_members(self, label: str):
        self.member_sort = label if label in SORT_LABELS else "Joined"
        self.member_page = 0
        return self._refresh()

    @rx.event
    def go_to_member_page(self, page: int):
        self.member_page = max(0, min(int(page), self.member_page_count - 1))
        return self._refresh()

    @rx.event
    def go_to_invite_page(self, page: int):
        self.invite_page = max(0, min(int(page), self.invite_page_count - 1))
        return self._refresh()

    @rx.event
    def send_invite(self, form: dict):
        outcome = self._attempt(
            lambda session, viewer: invitations.create_invite(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id or 0,
                email=form.get("email", ""),
                role=role_of(form.get("role", "")),  # a crafted label: refused beside the field
            ),
            form=self.INVITE_FORM,
        )
        already = outcome.refusal if outcome.refused_as(invitations.AlreadyInvited) else None
        self.resend_offer_id = already.invite_id if already else 0
        self.seats_offer = outcome.refused_as(NoSeatsAvailable)
        if not outcome.ok:
            return outcome.events
        return rx.toast.success(f"Invitation sent to {outcome.value.email}.")

    @rx.event
    def resend(self, invite_id: int):
        self.resend_offer_id = 0
        return self._act(
            invitations.resend_invite,
            form=self.RESEND_FORM,
            done="Invitation sent again.",
            invite_id=invite_id,
        ).events

    @rx.event
    def revoke(self, invite_id: int):
        return self._act(
            invitations.revoke_invite, done="Invitation revoked.", invite_id=invite_id
        ).events

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
            form=self.ROLE_FORM,
            done=f"Role changed to {label}.",
        )

    @rx.event
    def remove(self, user_id: int):
        return self._act(members.remove_member, done="Member removed.", member_id=user_id).events

    @rx.event
    def transfer_ownership(self, user_id: int):
        """The viewer's own role changes, so the whole page (and `caps`) loads again."""
        events = self._act(members.transfer_ownership, reload=False, member_id=user_id).events
        if events is not None:  # refused, or signed out
            return events
        return [
            AppState.load_page(routes.ORG_MEMBERS),
            rx.toast.success("Ownership transferred. You are now an Admin."),
        ]

    @rx.event
    def leave(self):
        """Leaving ends this workspace: back to the organization page (the Personal one)."""
        events = self._act(members.leave, reload=False).events
        if events is not None:  # refused, or signed out
            return events
        return [rx.redirect(routes.ORGANIZATION), rx.toast.success("You left the organization.")]
