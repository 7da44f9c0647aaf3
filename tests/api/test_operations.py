"""Operating the app (SPEC §18): liveness and readiness probes, Prometheus metrics, and
one JSON log line per HTTP request and per websocket event.

Over HTTP through the real gateway (wrapped as Reflex wraps the API, `test_gateway.py`),
against a real database, a real closed or silent port for a Redis that is down, and a real
SeaweedFS for object storage.
"""

import asyncio
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from reflex import constants
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event import Event
from reflex_base.event.processor import BaseStateEventProcessor
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from orgportal import db, routes
from orgportal.adapters import health, logs, storage
from orgportal.adapters.rate_limit import MemoryLimiter
from orgportal.api import build_api
from orgportal.api.gateway import Gateway
from orgportal.api.operations import route_template
from orgportal.config import settings
from orgportal.models import OutboxMessage
from orgportal.models.base import utcnow
from orgportal.services import api_keys
from orgportal.state.base import AppState
from orgportal.state.observability import EventObserver
from tests.api.test_gateway import reflex_wrapped
from tests.factories import PASSWORD, make_org, make_user, open_session
from tests.object_storage import client as s3_client
from tests.object_storage import seaweedfs
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-secret-0123456789"


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "redis_url", None)
    monkeypatch.setattr(settings, "metrics_token", "")
    monkeypatch.setattr(settings, "metrics_allowed_addresses", [])
    # the app's own host (PUBLIC_URL's default): other hosts are branded short-link domains
    app = Gateway(reflex_wrapped(build_api()), host_routing=True)
    return TestClient(app, base_url=f"http://localhost:{settings.port}")


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """The app's JSON log lines (as `logs.configure` sets them up in each worker) of this test."""
    stream = io.StringIO()
    logger = logging.getLogger(logs.LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    logs.configure(level="INFO", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.handlers[:] = saved[2]
    logger.setLevel(saved[0])
    logger.propagate = saved[1]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- liveness and readiness ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost:3000", "10.1.2.3:3000", "go.acme.example"])
def test_healthz_answers_on_any_host_and_sets_no_cookie(client, host):
    answer = client.get("/healthz", headers={"Host": host})
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert "set-cookie" not in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"
    assert len(answer.headers["x-request-id"]) == 32
    # a page elsewhere naming itself as Origin does not make a probe fail
    assert client.get("/healthz", headers={"Origin": "https://evil.example"}).status_code == 200
    assert client.post("/healthz").status_code == 405


def test_readyz_is_ready_on_sqlite(client):
    answer = client.get("/readyz", headers={"Host": "10.1.2.3:3000"})
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured", "storage": "not configured"},
    }
    assert "set-cookie" not in answer.headers


def test_readyz_names_redis_when_nothing_listens_there(client, monkeypatch):
    monkeypatch.setattr(settings, "redis_url", f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    answer = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down: ")
    assert "connection refused" in body["checks"]["redis"]


def test_a_hung_redis_does_not_hang_the_probe(client, monkeypatch):
    """A port that accepts connections and never answers: the check times out."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setattr(settings, "redis_url", f"redis://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        answer = client.get("/readyz")
        assert time.monotonic() - started < 3
    assert answer.status_code == 503
    assert answer.json()["checks"]["redis"].startswith("down: ")


def test_readyz_checks_object_storage_when_configured(client, monkeypatch):
    monkeypatch.setattr(settings, "storage_url", f"http://127.0.0.1:{free_port()}")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"].startswith("down: ")
    assert answer.json()["checks"]["database"] == "ok"
    try:
        server = seaweedfs()
        endpoint = server.__enter__()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        s3_client(endpoint).create_bucket(Bucket="orgportal-ready")
        for name, value in {
            "storage_url": endpoint,
            "storage_bucket": "orgportal-ready",
            "storage_access_key_id": "test",
            "storage_secret_access_key": "test",
        }.items():
            monkeypatch.setattr(settings, name, value)
        storage.reset()
        answer = client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["checks"]["storage"] == "ok"
        monkeypatch.setattr(settings, "storage_bucket", "no-such-bucket")
        assert client.get("/readyz").json()["checks"]["storage"].startswith("down: ")
    finally:
        server.__exit__(None, None, None)


def test_readiness_checks_run_concurrently_within_the_timeout(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "redis_url", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(settings, "storage_url", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    checks = asyncio.run(health.readiness())
    assert time.monotonic() - started < health.TIMEOUT + 0.5
    assert checks["database"] == "ok"
    assert checks["redis"].startswith("down: ") and checks["storage"].startswith("down: ")


# --- metrics -------------------------------------------------------------------------------


def test_metrics_are_not_there_unless_configured(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_metrics_need_the_token(client, monkeypatch):
    monkeypatch.setattr(settings, "metrics_token", TOKEN)
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in answer.headers
    for name in (
        "orgportal_http_requests_total",
        "orgportal_http_request_duration_seconds_bucket",
        "orgportal_websocket_connections",
        "orgportal_websocket_events_total",
        "orgportal_websocket_event_duration_seconds",
        "orgportal_outbox_messages",
        "orgportal_outbox_oldest_unsent_age_seconds",
        "orgportal_click_queue_depth",
        "orgportal_click_writer_restarts_total",
        "orgportal_cache_lookups_total",
        "orgportal_rate_limit_refusals_total",
    ):
        assert name in answer.text, name


def test_metrics_may_be_limited_to_addresses(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "metrics_token", "")
    monkeypatch.setattr(settings, "metrics_allowed_addresses", [ip_network("10.0.0.0/8")])
    inside = TestClient(Gateway(reflex_wrapped(build_api())), client=("10.9.8.7", 4000))
    outside = TestClient(Gateway(reflex_wrapped(build_api())), client=("192.0.2.1", 4000))
    assert inside.get("/metrics").status_code == 200
    assert outside.get("/metrics").status_code == 403
    monkeypatch.setattr(settings, "metrics_token", TOKEN)  # both: both are required
    assert inside.get("/metrics").status_code == 401
    assert inside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 403


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/files/12345", "/api/files/{file_id}"),
        ("/api/organizations/12/usage", "/api/organizations/{organization_id}/usage"),
        ("/support/invite/tok3nTOK3Ntok3nTOK3Ntok3n", "/support/invite/[token]"),
        ("/healthz", "/healthz"),
    ],
)
def test_a_request_is_counted_under_its_route_template(client, path, route):
    classes = ("2xx", "3xx", "4xx", "5xx")

    def counted(name: str, route: str) -> dict[str, float]:
        return {c: sample(name, route=route, method="GET", status_class=c) for c in classes}

    before = counted("orgportal_http_requests_total", route)
    timed = counted("orgportal_http_request_duration_seconds_count", route)
    status_class = f"{client.get(path).status_code // 100}xx"
    assert counted("orgportal_http_requests_total", route)[status_class] == (
        before[status_class] + 1
    )
    assert counted("orgportal_http_request_duration_seconds_count", route)[status_class] == (
        timed[status_class] + 1
    )
    if path != route:  # never the raw path
        assert not any(counted("orgportal_http_requests_total", path).values())


def test_route_templates_are_a_bounded_set():
    def template(path: str) -> str:
        return route_template({"type": "http", "path": path})

    assert template(routes.password_reset_link("x" * 43)) == routes.PASSWORD_RESET_LINK
    assert template("/organization/members/") == routes.ORG_MEMBERS
    assert template("/assets/index-abc123.js") == "/assets/{path}"
    assert template("/spring-sale") == "/{slug}"
    assert template("/a/b/c/d") == "other"
    assert template("/Not A Slug") == "other"


def test_open_websockets_are_a_gauge(engine, monkeypatch):
    async def echo_gauge(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        await websocket.send_text(str(sample("orgportal_websocket_connections")))
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/_event", echo_gauge)])
    monkeypatch.setattr(db, "engine", lambda: engine)
    before = sample("orgportal_websocket_connections")
    with TestClient(Gateway(app)).websocket_connect("/_event") as socket_:
        socket_.send_text("how many?")
        assert float(socket_.receive_text()) == before + 1
    assert sample("orgportal_websocket_connections") == before


def test_outbox_depth_and_failures_are_read_at_scrape_time(client, engine, monkeypatch):
    monkeypatch.setattr(settings, "metrics_token", TOKEN)
    with Session(engine) as session:

        def message(**fields) -> OutboxMessage:
            return OutboxMessage(to_address="a@example.com", subject="s", body_text="b", **fields)

        session.add(message())  # queued
        session.add(message(attempts=2, last_error="refused"))  # retrying
        session.add(message(attempts=8, failed_at=utcnow()))  # given up
        session.add(message(attempts=1, sent_at=utcnow()))  # delivered
        session.commit()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert 'orgportal_outbox_messages{state="pending"} 2.0' in text
    assert 'orgportal_outbox_messages{state="retrying"} 1.0' in text
    assert 'orgportal_outbox_messages{state="failed"} 1.0' in text
    age = [line for line in text.splitlines() if line.startswith("orgportal_outbox_oldest")]
    assert age and float(age[0].split()[-1]) >= 0


def test_cache_hits_and_misses_are_counted(monkeypatch):
    from orgportal.adapters import worker_cache

    monkeypatch.setattr(worker_cache._registry, "heard", time.monotonic() + 3600)  # bus heard
    cache = worker_cache.WorkerCache("ops_test", ttl=60)
    misses = sample("orgportal_cache_lookups_total", cache="ops_test", result="miss")
    assert cache.get(1) is None
    cache.put(1, "one", tags=[("usage", 1)], token=worker_cache.token())
    assert cache.get(1) == "one"
    assert sample("orgportal_cache_lookups_total", cache="ops_test", result="miss") == misses + 1
    assert sample("orgportal_cache_lookups_total", cache="ops_test", result="hit") >= 1


def test_rate_limit_refusals_are_counted_per_limiter():
    limiter = MemoryLimiter("ops_test_limit", 1, 60)
    before = sample("orgportal_rate_limit_refusals_total", limiter="ops_test_limit")
    assert limiter.hit("k") == 0
    assert limiter.hit("k") > 0
    assert limiter.peek("k") > 0
    assert limiter.hit("other") == 0
    assert sample("orgportal_rate_limit_refusals_total", limiter="ops_test_limit") == before + 2


def test_several_workers_share_one_exposition_in_multiprocess_mode(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, what each worker process counted is summed."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
    }
    (tmp_path / "prom").mkdir()
    count = (
        "from orgportal.adapters import metrics;"
        "metrics.HTTP_REQUESTS.labels('/x', 'GET', '2xx').inc(3);"
        "metrics.WEBSOCKET_CONNECTIONS.inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=ROOT, check=True)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from orgportal.adapters import metrics; print(metrics.render().decode())",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert 'orgportal_http_requests_total{method="GET",route="/x",status_class="2xx"} 6.0' in shown


# --- logs ----------------------------------------------------------------------------------


def test_one_json_line_per_request_without_secrets(client, log_lines):
    secret_path = routes.password_reset_link("s3cretResetToken" * 3)
    answer = client.get(
        f"{secret_path}?token=queryS3cret&next=/x",
        headers={
            "X-Request-ID": "req-1234-abcd",
            "Authorization": "Bearer op_apiKeyS3cret",
            "Cookie": "orgportal_session=cookieS3cret",
        },
    )
    assert answer.headers["x-request-id"] == "req-1234-abcd"
    lines = [line for line in log_lines() if line.get("kind") == "http"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-1234-abcd"
    assert line["route"] == line["path"] == routes.PASSWORD_RESET_LINK
    assert line["method"] == "GET" and line["status"] == answer.status_code
    assert line["level"] == "INFO" and line["logger"] == "orgportal.http"
    assert line["duration_ms"] >= 0 and line["client"] == "testclient"
    captured = json.dumps(log_lines())
    for secret in ("s3cretResetToken", "queryS3cret", "op_apiKeyS3cret", "cookieS3cret"):
        assert secret not in captured


def test_the_request_line_is_the_same_written_directly_or_through_logging(client, log_lines):
    """The line of each request is written straight to the stream (no LogRecord); with
    anything else listening on the way (here a second handler) it goes through `logging`.
    Both give the same line: the same keys in the same order, the same values."""
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    client.get("/api/files/1", headers={"X-Request-ID": "same-line-1"})
    http_log, keep = logging.getLogger("orgportal.http"), Keep()
    http_log.addHandler(keep)
    try:
        client.get("/api/files/1", headers={"X-Request-ID": "same-line-1"})
    finally:
        http_log.removeHandler(keep)
    direct, through = [line for line in log_lines() if line.get("kind") == "http"]
    assert len(kept) == 1  # the second went through logging
    assert list(direct) == list(through)
    for line in (direct, through):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("time"))
        assert line.pop("duration_ms") >= 0
    assert direct == through
    assert direct["message"] == f"GET /api/files/{{file_id}} {direct['status']}"


def test_a_malformed_request_id_is_replaced(client, log_lines):
    answer = client.get("/healthz", headers={"X-Request-ID": 'x" onload=alert(1)'})
    assert answer.headers["x-request-id"] != 'x" onload=alert(1)'
    assert len(answer.headers["x-request-id"]) == 32
    client.get("/api/files/1", headers={"X-Request-ID": "a" * 200})
    assert [line["request_id"] for line in log_lines()][-1] != "a" * 200


def test_an_api_request_logs_its_user_and_organization(client, session, log_lines):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = api_keys.create_key(
        session, user=owner, name="ops", active_org_id=org.id, password=PASSWORD
    )
    session.commit()
    answer = client.get(
        f"/api/organizations/{org.public_id}", headers={"Authorization": f"Bearer {raw}"}
    )
    assert answer.status_code == 200
    line = [line for line in log_lines() if line.get("kind") == "http"][-1]
    assert line["user_id"] == owner.id and line["organization_id"] == org.id
    assert line["route"] == "/api/organizations/{organization_id}"
    assert raw not in json.dumps(log_lines())


def test_a_download_logs_the_signed_in_user(client, session, log_lines):
    owner = make_user(session)
    org = make_org(session, owner)
    cookie, _ = open_session(session, owner, org.id)
    session.commit()
    client.cookies.set(routes.SESSION_COOKIE, cookie)
    assert client.get("/api/files/99999").status_code == 404
    line = [line for line in log_lines() if line.get("kind") == "http"][-1]
    assert line["user_id"] == owner.id and "organization_id" not in line
    assert cookie not in json.dumps(log_lines())


def test_a_websocket_event_is_counted_and_logged_with_its_viewer(
    session, engine, monkeypatch, log_lines
):
    """Reflex's own event processor with the app as its middleware (as the server runs it):
    a signed-in page load sent by the browser, with the session cookie of its websocket."""
    from orgportal.orgportal import app

    monkeypatch.setattr(db, "engine", lambda: engine)
    owner = make_user(session)
    org = make_org(session, owner)
    cookie, _ = open_session(session, owner, org.id)
    session.commit()
    name = f"{AppState.get_full_name()}.load_page"
    before = sample("orgportal_websocket_events_total", handler=name, outcome="ok")
    event = Event(
        name=name,
        payload={"route": routes.ORGANIZATION},
        router_data={
            constants.RouteVar.PATH: routes.ORGANIZATION,
            constants.RouteVar.HEADERS: {"cookie": f"{routes.SESSION_COOKIE}={cookie}"},
            constants.RouteVar.CLIENT_IP: "127.0.0.1",
            constants.RouteVar.CLIENT_TOKEN: "client-token-s3cret",
        },
    )

    async def run() -> None:
        with app.set_contexts():
            processor = BaseStateEventProcessor(middleware=app, backend_exception_handler=None)
            async with processor.configure(state_manager=StateManagerMemory()):
                await (await processor.enqueue("client-token-s3cret", event))
                await asyncio.sleep(0.05)  # the events it chained

    asyncio.run(run())
    assert sample("orgportal_websocket_events_total", handler=name, outcome="ok") == before + 1
    assert sample("orgportal_websocket_event_duration_seconds_count", handler=name) >= 1
    line = next(line for line in log_lines() if line.get("handler") == name)
    assert line["kind"] == "websocket_event" and line["outcome"] == "ok"
    assert line["logger"] == "orgportal.events" and line["level"] == "INFO"
    assert line["page"] == routes.ORGANIZATION and line["duration_ms"] >= 0
    assert line["user_id"] == owner.id and line["organization_id"] == org.id
    assert len(line["request_id"]) == 32
    captured = json.dumps(log_lines())
    assert cookie not in captured and "client-token-s3cret" not in captured


def test_a_failed_event_is_counted_and_logged_as_an_error(log_lines):
    """`preprocess` runs in the event's own task; the task's end is the event's end."""
    name = "ops_test_state.explode"

    async def event_task() -> None:
        await EventObserver().preprocess(app=None, state=None, event=Event(name=name))
        raise RuntimeError("handler failed")

    async def run() -> None:
        with pytest.raises(RuntimeError):
            await asyncio.create_task(event_task())
        await asyncio.sleep(0)  # the task's done callbacks

    before = sample("orgportal_websocket_events_total", handler=name, outcome="error")
    asyncio.run(run())
    assert sample("orgportal_websocket_events_total", handler=name, outcome="error") == before + 1
    line = next(line for line in log_lines() if line.get("handler") == name)
    assert line["outcome"] == "error" and line["level"] == "ERROR"


def test_log_level_is_a_setting(monkeypatch):
    stream = io.StringIO()
    logger = logging.getLogger(logs.LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    try:
        monkeypatch.setattr(settings, "log_level", "WARNING")
        logs.configure(stream=stream)
        logging.getLogger("orgportal.http").info("quiet")
        logging.getLogger("orgportal.http").warning("loud")
    finally:
        logger.handlers[:] = saved[2]
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["loud"]
