"""SPEC §18: PostgreSQL restarts (`pg_ctl restart -m fast`) under the running app.

The app runs as at scale (two backend workers, `make run`) on a PostgreSQL cluster and a
Redis of this test's own. To have requests truly in flight when the server goes, the test
holds the organization's row lock (as a long transaction would) so that two REST link
creations, a REST invite and a link created on the open Links page all wait inside
PostgreSQL; then the cluster is restarted, which ends every session.

What must hold:

- the in-flight requests fail cleanly and at once: 503 with the API's JSON error shape and
  Retry-After (not a bare 500), and on the page a message saying the database was
  unavailable and nothing changed (no traceback page, no "contact the administrator");
- the next requests succeed through both workers, and the same page works again, without
  restarting the app (the pool's pre-ping replaces the connections the restart closed);
- no use case is half-written: none of the failed link creations left a link, the failed
  invite left neither an invite nor its mail (and can be sent again, once), and the usage
  counters match a recount (services/usage_counters.check).
"""

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import col, select

from orgportal.models import Invite, Link, OutboxMessage
from tests.e2e.conftest import browser_type_launch_args  # noqa: F401  (Debian's chromium)
from tests.faults.services import (
    Answer,
    PostgresCluster,
    RedisServer,
    RunningApp,
    Tenant,
    app_environment,
    counter_drift,
    database,
    postgres_cluster,
    request,
    seed_tenant,
    sign_in_browser,
    start_app,
    through_every_worker,
    wait_for_workers,
)

ANSWER_WITHIN = 10.0  # seconds after the restart began by which every in-flight request answers
UNAVAILABLE = "The database is unavailable for a moment"


@dataclass
class Stack:
    app: RunningApp
    cluster: PostgresCluster
    database_url: str
    tenant: Tenant


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("postgres-restart")
    redis = RedisServer(tmp / "redis").start()
    try:
        with postgres_cluster() as cluster:
            url = cluster.create_database()
            env = app_environment(tmp, database_url=url, redis_url=redis.url, workers=2)
            app = start_app(env, tmp / "app.log")
            try:
                wait_for_workers(app, 2)
                yield Stack(app, cluster, url, seed_tenant(url, "Restart Co"))
            finally:
                app.stop()
    finally:
        redis.stop()


def test_postgres_restart_fails_in_flight_work_cleanly_and_the_next_succeeds(
    stack: Stack, browser: Browser
):
    app, tenant = stack.app, stack.tenant
    context = browser.new_context(base_url=app.url)
    sign_in_browser(context, app.url, tenant)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto("/links")
    expect(page.get_by_text("Links (0)")).to_be_visible(timeout=30_000)
    for _ in range(6):  # both workers hold pooled connections that the restart will close
        assert list_links(app, tenant).status == 200

    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    lock = hold_organization_lock(stack, tenant)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            in_flight = [pool.submit(create_link, app, tenant) for _ in range(2)]
            in_flight.append(pool.submit(invite, app, tenant, invitee))
            # The three requests wait inside PostgreSQL first: a page event runs its use case
            # on its worker's event loop, so once it waits for the lock, a request that
            # worker had not yet handed to its threadpool would wait in Python instead.
            wait_for_lock_waiters(lock, 3)
            page.get_by_label("Target URL").fill("https://example.com/from-the-page")
            page.get_by_role("button", name="Create Link").click()
            wait_for_lock_waiters(lock, 4)  # the three requests and the page's event
            restarted_at = time.monotonic()
            stack.cluster.restart()
            restart_took = time.monotonic() - restarted_at
            failed = [future.result(timeout=60) for future in in_flight]
    finally:
        lock.close()

    # In flight: a clean, immediate 503 in the API's error shape; a message on the page.
    for answer in failed:
        assert answer.status == 503, answer
        assert isinstance(answer.body, dict) and UNAVAILABLE in answer.body["detail"], answer
        assert answer.seconds < restart_took + ANSWER_WITHIN, answer
    expect(page.get_by_text(UNAVAILABLE)).to_be_visible(timeout=ANSWER_WITHIN * 1000)
    assert "Traceback" not in page.content()

    # The next requests succeed, through both workers, without restarting the app.
    after = through_every_worker(app, lambda: create_link(app, tenant))
    assert {a.status for a in after} == {201}, after
    page.get_by_label("Target URL").fill("https://example.com/again-from-the-page")
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_text(f"Links ({len(after) + 1})")).to_be_visible(timeout=20_000)
    again = invite(app, tenant, invitee)
    assert again.status == 201, again  # the failed invite left nothing in its way

    # Nothing half-written: exactly what answered 201 (or the page saved) is stored.
    with database(stack.database_url) as session:
        targets = set(session.exec(select(Link.target_url)).all())
        invites = session.exec(select(Invite).where(Invite.email == invitee)).all()
        mails = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.to_address) == invitee)
        ).all()
    assert targets == {a.body["target_url"] for a in after} | {
        "https://example.com/again-from-the-page"
    }, "a link of a failed use case was stored, or a saved one is missing"
    assert len(invites) == 1 and len(mails) == 1, (invites, mails)
    assert counter_drift(stack.database_url) == []
    assert page_errors == []
    context.close()
    print(f"restart took {restart_took:.2f} s; in-flight answers: {[a.seconds for a in failed]}")


def hold_organization_lock(stack: Stack, tenant: Tenant) -> psycopg.Connection:
    """A transaction of our own holding the organization's row lock, which link creation
    and invitations take first (services/seats.lock_organization)."""
    conn = psycopg.connect(
        f"host=127.0.0.1 port={stack.cluster.port} user=postgres "
        f"dbname={stack.database_url.rsplit('/', 1)[1]}"
    )
    conn.execute(
        "UPDATE organization SET updated_at = updated_at WHERE id = %s", (tenant.organization_id,)
    )
    return conn


def wait_for_lock_waiters(lock: psycopg.Connection, count: int, timeout: float = 30) -> None:
    """Until `count` other sessions of the database wait for a lock (for our row lock)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(lock.info.dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.1)
    raise AssertionError(f"fewer than {count} requests were waiting inside PostgreSQL")


def create_link(app: RunningApp, tenant: Tenant) -> Answer:
    target = f"https://example.com/{uuid.uuid4().hex[:10]}"
    return request(
        app, "POST", "/api/links", headers=tenant.headers, json_body={"target_url": target}
    )


def invite(app: RunningApp, tenant: Tenant, email: str) -> Answer:
    path = f"/api/organizations/{tenant.organization_ref}/invites"
    return request(
        app, "POST", path, headers=tenant.headers, json_body={"email": email, "role": "agent"}
    )


def list_links(app: RunningApp, tenant: Tenant) -> Answer:
    return request(app, "GET", "/api/links", headers=tenant.headers)
