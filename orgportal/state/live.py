"""One subscription to the live bus per backend worker, dispatched by topic.

Services mark what they changed (`db.mark_changed`); after the commit the change crosses
to every worker (Redis pub/sub, or in-process), and here each worker refreshes the pages it
serves: the usage bars, or the open ticket lists.
"""

import contextlib
import logging

import reflex as rx

from orgportal.adapters.live import LOST, bus
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
        if any(topic == LOST for topic, _ in changes):
            await drop_connections(app)
        for topic, organization_id in sorted(changes):
            push = PUSHES.get(topic)
            if push is None:
                continue
            try:
                await push(app, organization_id)
            except Exception:  # one failed push must not stop the live updates
                log.exception("live %s push for organization %s failed", topic, organization_id)


async def drop_connections(app: rx.App) -> int:
    """Redis is lost (issue 23 §2): every page's state lives there, so no event of a page on
    this worker can run, and changes announced meanwhile are missed. Close the transport of
    each websocket of this worker, as a network cut would: the browser shows Reflex's
    connection banner and keeps reconnecting (api/gateway.py refuses websockets while this
    worker's bus is lost); once Redis is back, its reconnect hydrates the page and runs its
    load again, so it shows current data and registers for live pushes anew. (A server-side
    socket.io disconnect would not do: the page would take it as final and never come back.)
    Returns how many were closed."""
    server = app.sio
    if server is None:
        return 0
    closed = 0
    for socket in list(server.eio.sockets.values()):
        with contextlib.suppress(Exception):
            await socket.close(wait=False, abort=True)  # engine.io's own teardown…
            socket.queue.put_nowait(None)  # …and its writer closes the websocket itself
            closed += 1
    if closed:
        log.warning("live bus lost: closed %d websockets of this worker", closed)
    return closed
