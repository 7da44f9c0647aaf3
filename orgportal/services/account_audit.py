"""A user's own account changes in the audit log (SPEC §13: "all of the above is audited").

The audit log belongs to organizations (SPEC §12), so an account event is recorded in the log
of every organization the user is a member of: its Owner and Admins see that a member changed
their password or email, signed sessions out or deleted their account, as workspace products'
admin logs do. An account with no organization has no audit log to show it in.
"""

from sqlmodel import Session, select

from orgportal.models import Membership, User
from orgportal.services import audit


def record(session: Session, *, user: User, action: str, summary: str) -> None:
    """One entry per organization of `user`, in the caller's transaction (actor: the user)."""
    organization_ids = session.exec(
        select(Membership.organization_id).where(Membership.user_id == user.id)
    ).all()
    for organization_id in sorted(set(organization_ids)):
        audit.record(
            session, organization_id=organization_id, actor=user, action=action, summary=summary
        )
