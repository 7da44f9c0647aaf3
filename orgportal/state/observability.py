"""Websocket events in the metrics and the logs (SPEC §18), as a Reflex middleware.

Reflex runs each event in an asyncio task of its own and calls every middleware's
`preprocess` in that task, once it holds the session's state, just before the handler
(`app.add_middleware`, Reflex's documented hook). `EventObserver` starts the event's log
fields there (a fresh request id; `user_id` and `organization_id` are bound by the state
core once it has authenticated the session: `AppState._viewer`) and, when the task ends,
counts the event by handler and outcome, records its duration, and logs one JSON line.
The line names the handler and the page's route template, never the page's own path (it may
carry a token), the client's token or anything the browser sent.
"""

import asyncio
import logging
import time
from functools import partial
from typing import Any

import reflex as rx
from reflex import constants

from orgportal.adapters import logs, metrics

log = logging.getLogger("orgportal.events")


class EventObserver(rx.Middleware):
    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        task = asyncio.current_task()
        if task is None:  # not inside an event task: nothing to time
            return None
        page = (getattr(state, "router_data", None) or {}).get(constants.RouteVar.PATH) or ""
        fields = logs.start(request_id=logs.request_id(None))
        task.add_done_callback(partial(_finished, event.name, page, fields, time.perf_counter()))
        return None  # never replaces the event's own processing


def _finished(handler: str, page: str, fields: dict, started: float, task: asyncio.Task) -> None:
    seconds = time.perf_counter() - started
    if task.cancelled():
        outcome = "cancelled"
    elif task.exception() is not None:
        outcome = "error"
    else:
        outcome = "ok"
    metrics.WEBSOCKET_EVENTS.labels(handler, outcome).inc()
    metrics.WEBSOCKET_EVENT_DURATION.labels(handler).observe(seconds)
    level = logging.ERROR if outcome == "error" else logging.INFO
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        "event %s %s",
        handler,
        outcome,
        extra={
            "fields": {
                **fields,
                "kind": "websocket_event",
                "handler": handler,
                "page": logs.loggable_path(page, page),
                "outcome": outcome,
                "duration_ms": round(seconds * 1000, 2),
            }
        },
    )
