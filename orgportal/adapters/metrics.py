"""Prometheus metrics (SPEC §18), served at `/metrics` (`api/operations.py`).

Counted as things happen: HTTP requests by route template (never the raw path, so the
number of series stays bounded), method and status class, with their latency; websocket
events by handler, with theirs; connected websockets; the click queue's depth; worker-cache
hits and misses; rate-limit refusals. Read at scrape time (`OutboxCollector`): the mail
outbox's pending and failed messages, two COUNTs over the indexed `sent_at` column.

Each backend worker counts in its own memory, and a scrape reaches whichever worker accepts
the connection. With several workers set PROMETHEUS_MULTIPROC_DIR to an empty directory
(emptied before each start) in the server's environment: prometheus-client then keeps every
worker's values in files there, and any worker's `/metrics` sums them (gauges of live
workers only; the outbox numbers are the database's, the same from every worker).
"""

import logging
import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, case
from sqlmodel import Session, col, func, select

from orgportal.models import OutboxMessage

log = logging.getLogger(__name__)
CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
disable_created_metrics()  # no `_created` twin of every counter and histogram series

HTTP_REQUESTS = Counter(
    "orgportal_http_requests",
    "HTTP requests answered, by route template, method and status class (2xx, 4xx…).",
    ["route", "method", "status_class"],
)
HTTP_DURATION = Histogram(
    "orgportal_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route", "method", "status_class"],
)
WEBSOCKET_CONNECTIONS = Gauge(
    "orgportal_websocket_connections",
    "Websockets (the pages' live connections) open now.",
    multiprocess_mode="livesum",
)
WEBSOCKET_EVENTS = Counter(
    "orgportal_websocket_events",
    "Websocket (Reflex) events handled, by handler and outcome (ok, error, cancelled).",
    ["handler", "outcome"],
)
WEBSOCKET_EVENT_DURATION = Histogram(
    "orgportal_websocket_event_duration_seconds",
    "Time an event handler ran, from getting its session's state to its last update.",
    ["handler"],
)
LIVE_TABS = Gauge(
    "orgportal_live_tabs",
    "Registrations of open tabs for live updates (one per tab and live page), as of the last "
    "sweep of closed tabs.",
    multiprocess_mode="livesum",
)
CLICK_QUEUE_DEPTH = Gauge(
    "orgportal_click_queue_depth",
    "Short-link clicks queued in memory, not yet written to the database (set as each batch "
    "is sent to the click writer and answered).",
    multiprocess_mode="livesum",
)
CLICK_WRITER_RESTARTS = Counter(
    "orgportal_click_writer_restarts",
    "Times a worker's click writer process died and was started again (its unwritten "
    "batches sent again; adapters/batch_process.py).",
)
CACHE_LOOKUPS = Counter(
    "orgportal_cache_lookups",
    "Worker-cache lookups, by cache and result (hit or miss).",
    ["cache", "result"],
)
RATE_LIMIT_REFUSALS = Counter(
    "orgportal_rate_limit_refusals",
    "Requests refused by a rate limit, by limiter name.",
    ["limiter"],
)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def cache_lookup(cache: str, hit: bool) -> None:
    _child(CACHE_LOOKUPS, cache, "hit" if hit else "miss").inc()


def http_request(route: str, method: str, status_class: str, seconds: float) -> None:
    """Count one HTTP request and its duration (SPEC §18)."""
    pair = _http_children.get((route, method, status_class))
    if pair is None:
        pair = _http_children[(route, method, status_class)] = (
            _child(HTTP_REQUESTS, route, method, status_class),
            _child(HTTP_DURATION, route, method, status_class),
        )
    pair[0].inc()
    pair[1].observe(seconds)


_http_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}  # both, in one lookup


_children: dict[tuple, Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, remembered: the label sets are bounded (routes are
    templates), and `labels()` takes a lock and builds its key on every call."""
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def rate_limit_refused(limiter: str, wait: float) -> float:
    """Count a refusal when `wait` (a limiter's answer) is one; returns `wait`."""
    if wait:
        RATE_LIMIT_REFUSALS.labels(limiter).inc()
    return wait


class OutboxCollector(Collector):
    """The mail outbox, read at scrape time. Messages not sent yet are few (sent ones are the
    bulk), and `sent_at IS NULL` finds them through its index."""

    def __init__(self, engine: Callable[[], Engine]):
        self.engine = engine  # the database module's: it imports this one, not the reverse

    def describe(self):
        return []  # not known before a scrape: never collected at registration

    def collect(self):
        retrying = and_(col(OutboxMessage.failed_at).is_(None), col(OutboxMessage.attempts) > 0)
        try:
            with Session(self.engine()) as session:
                unsent, failed, retrying, oldest = session.exec(
                    select(
                        func.count(),
                        func.count(col(OutboxMessage.failed_at)),  # counts the non-null ones
                        func.count(case((retrying, 1))),
                        func.min(OutboxMessage.created_at),
                    ).where(col(OutboxMessage.sent_at).is_(None))
                ).one()
        except Exception:  # a scrape still answers with everything else
            log.warning("outbox metrics unavailable", exc_info=True)
            return
        messages = GaugeMetricFamily(
            "orgportal_outbox_messages",
            "Mail outbox messages not delivered: pending (queued or retrying) and failed "
            "(given up after MAIL_MAX_ATTEMPTS). Database-wide.",
            labels=["state"],
        )
        messages.add_metric(["pending"], unsent - failed)
        messages.add_metric(["retrying"], retrying)
        messages.add_metric(["failed"], failed)
        yield messages
        age = GaugeMetricFamily(
            "orgportal_outbox_oldest_unsent_age_seconds",
            "Age of the oldest undelivered (pending or failed) outbox message; 0 when none.",
        )
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age.add_metric([], (datetime.now(UTC) - oldest).total_seconds() if oldest else 0)
        yield age


def watch_outbox(engine: Callable[[], Engine]) -> None:
    """Count the mail outbox of this database at each scrape (once per process)."""
    global _outbox
    if _outbox is None:
        _outbox = OutboxCollector(engine)
        if not MULTIPROCESS:  # else `render` adds it to each scrape's registry
            REGISTRY.register(_outbox)


_outbox: OutboxCollector | None = None


def render() -> bytes:
    """The exposition text of every metric (blocking: the outbox is read from the database)."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    if _outbox is not None:
        registry.register(_outbox)
    return generate_latest(registry)


@asynccontextmanager
async def worker_lifespan():
    """A backend worker's lifespan (multiprocess mode): its live gauges leave with it."""
    try:
        yield
    finally:
        if MULTIPROCESS:
            multiprocess.mark_process_dead(os.getpid())
