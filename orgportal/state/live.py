"""One subscription to the live bus per backend worker, dispatched by topic.

Services mark what they changed (`db.mark_changed`); after the commit the change crosses
to every worker (Redis pub/sub, or in-process), and here each worker refreshes the pages it
serves: the usage bars, or the open ticket lists.
"""

import logging

import reflex as rx

from orgportal.adapters.live import bus
from orgportal.state.analytics import push_analytics, push_personal_analytics
from orgportal.state.approvals import push_approvals
from orgportal.state.tickets import push_ticket_lists
from orgportal.state.usage import push_personal_usage, push_usage

log = logging.getLogger(__name__)
PUSHES = {
    "usage": push_usage,
    "personal_usage": push_personal_usage,  # keyed by user id, not organization
    "tickets": push_ticket_lists,
    "approvals": push_approvals,  # the Approval queue and the nav's badge (issue 15)
    "analytics": push_analytics,  # open /analytics pages, at most once a second (issue 15)
    "analytics_user": push_personal_analytics,  # keyed by user id
}


async def dispatch_live_updates(app: rx.App) -> None:
    """Lifespan task: runs as long as the worker does."""
    async for changes in bus().subscribe():
        for topic, organization_id in sorted(changes):
            push = PUSHES.get(topic)
            if push is None:
                continue
            try:
                await push(app, organization_id)
            except Exception:  # one failed push must not stop the live updates
                log.exception("live %s push for organization %s failed", topic, organization_id)
