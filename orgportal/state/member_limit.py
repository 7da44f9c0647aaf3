"""The member-limit rule beside the limit (SPEC §5): on the overview's members bar and the
Members page's invite form, "Members are limited by your 6 support seats (…)", so bought
support seats never silently replace the plan's member limit."""

from sqlmodel import Session

from orgportal.services import seats
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState


class MemberLimitState(AppState):
    member_limit_note: str = ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id:
            self.member_limit_note = ""
            return
        limit = seats.read_member_limit(session, user=viewer.user, organization_id=org_id)
        self.member_limit_note = limit.sentence
