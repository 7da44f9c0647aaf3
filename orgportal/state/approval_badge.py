"""The nav's Approval badge: how many links wait in the active organization's queue.

`AppState._show_viewer` fills `pending_approvals` through `count_and_watch` for Owners and
Admins, and registers the tab for the live page "approvals" (`state/live.py`, declared by
`state/approvals.ApprovalsState`); when the live bus announces the organization's
"approvals" topic, `state/approvals.push_approvals` updates every registered tab of this
worker (SPEC §14). Kept free of state imports so `state/base.py` can use it.
"""

from sqlmodel import Session

from orgportal.services import link_approval
from orgportal.state import live

PAGE = TOPIC = "approvals"  # the registration's data: the tab's user id


def count_and_watch(
    session: Session, *, organization_id: int | None, may_approve: bool, token: str, user_id: int
) -> int:
    """The badge's number for this tab (0 for those who do not approve links)."""
    unwatch(token)
    if not organization_id or not may_approve:
        return 0
    live.register(PAGE, token, TOPIC, organization_id, user_id)
    return link_approval.pending_count(session, organization_id)


def watching(organization_id: int) -> list[str]:
    return list(live.watchers(TOPIC, organization_id))


def unwatch(token: str, organization_id: int | None = None) -> None:
    """The tab no longer shows the badge (of `organization_id`, if given: only if that is
    still the organization it is registered under)."""
    if organization_id is None:
        live.unwatch(PAGE, token)
    else:
        live.unwatch(PAGE, token, TOPIC, organization_id)
