"""The nav's Approval badge: how many links wait in the active organization's queue.

`AppState._show_viewer` fills `pending_approvals` through `count_and_watch` for Owners and
Admins, and registers the tab here; when the live bus announces the organization's
"approvals" topic, `state/approvals.push_approvals` updates every registered tab of this
worker (SPEC §14, issue 15). Kept free of state imports so `state/base.py` can use it.
"""

import threading

from sqlmodel import Session

from orgportal.services import link_approval

# organization id → {client token: user id}, for the tabs connected to this worker
WATCHERS: dict[int, dict[str, int]] = {}
_lock = threading.Lock()


def count_and_watch(
    session: Session, *, organization_id: int | None, may_approve: bool, token: str, user_id: int
) -> int:
    """The badge's number for this tab (0 for those who do not approve links)."""
    unwatch(token)
    if not organization_id or not may_approve:
        return 0
    if token:
        with _lock:
            WATCHERS.setdefault(organization_id, {})[token] = user_id
    return link_approval.pending_count(session, organization_id)


def watching(organization_id: int) -> list[str]:
    with _lock:
        return list(WATCHERS.get(organization_id, {}))


def unwatch(token: str) -> None:
    with _lock:
        for tokens in WATCHERS.values():
            tokens.pop(token, None)
