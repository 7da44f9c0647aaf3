"""SPEC §18: Redis stops for 20 s while pages are open and links are being created.

The app runs as at scale (two backend workers, `make run`) on a Redis and a PostgreSQL
cluster of this test's own. The outage is the worst of both kinds: for 10 s Redis is frozen
(SIGSTOP: connections stay open and nothing answers, as in a network partition), then it
dies (SIGKILL: connections reset, new ones refused), and after 20 s in all a new, empty
Redis starts on the same port (a Redis without persistence comes back empty: every page's
Reflex state is gone). Meanwhile one link is created through the REST API (an API key) and
the usage is read, each second, each on a connection of its own, so both workers serve.

What must hold:

- every request gets an answer quickly (under REQUEST_BOUND s; no hang on Redis), never a
  traceback: link creations still answer 201 (Redis holds no data of theirs);
- the open page shows Reflex's connection banner ("Cannot connect to server…") while Redis
  is away, and recovers by itself when it is back: banner gone, usage bar current, and it
  moves again for a link created after the recovery (live bars resume);
- no worker serves a stale cached usage: once a worker can know Redis is gone (within
  CACHE_OFF_WITHIN s of the freeze, the heartbeat bound of adapters/worker_cache.py) every
  read counts every link committed before it started, and after the recovery every read
  through either worker is exact;
- nothing written to the database is lost: every link that answered 201 exists, and the
  usage counters match a recount (services/usage_counters.check).
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from orgportal.models import Link
from tests.e2e.conftest import browser_type_launch_args  # noqa: F401  (Debian's chromium)
from tests.faults.services import (
    Answer,
    RedisServer,
    RunningApp,
    Tenant,
    app_environment,
    count_links,
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

FROZEN_FOR = 10.0  # seconds of SIGSTOP, then SIGKILL…
DOWN_FOR = 20.0  # …and a new Redis this long after the outage began
REQUEST_BOUND = 5.0  # the longest any request may take during the outage
CACHE_OFF_WITHIN = 4.0  # DEAF_AFTER (3 s) + a heartbeat: caches off this soon after a freeze
BANNER = "Cannot connect to server"  # Reflex's connection toast
LIMIT = 50  # links on the Free plan


@dataclass
class Stack:
    app: RunningApp
    redis: RedisServer
    database_url: str
    tenant: Tenant


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("redis-outage")
    redis = RedisServer(tmp / "redis").start()
    try:
        with postgres_cluster() as cluster:
            url = cluster.create_database()
            env = app_environment(tmp, database_url=url, redis_url=redis.url, workers=2)
            app = start_app(env, tmp / "app.log")
            try:
                wait_for_workers(app, 2)
                yield Stack(app, redis, url, seed_tenant(url, "Outage Co"))
            finally:
                app.stop()
    finally:
        redis.stop()


@dataclass
class Read:
    started: float  # monotonic
    links_before: int  # links committed before the request was sent
    answer: Answer


def test_redis_outage_is_survived_and_recovered_from_by_itself(stack: Stack, browser: Browser):
    app, tenant = stack.app, stack.tenant
    context = browser.new_context(base_url=app.url)
    sign_in_browser(context, app.url, tenant)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto("/organization")
    label = page.locator("#usage-links-label")
    expect(label).to_have_text(f"0 / {LIMIT}", timeout=30_000)

    assert create_link(app, tenant).status == 201
    expect(label).to_have_text(f"1 / {LIMIT}", timeout=10_000)  # live bars work to begin with
    for _ in range(6):  # both workers cache the usage
        assert usage(app, tenant).status == 200

    created: list[Answer] = []
    reads: list[Read] = []
    banner_seen_after: float | None = None
    start = time.monotonic()
    stack.redis.freeze()
    killed = False
    while (elapsed := time.monotonic() - start) < DOWN_FOR:
        if not killed and elapsed >= FROZEN_FOR:
            stack.redis.kill()
            killed = True
        tick = time.monotonic()
        created.append(create_link(app, tenant))
        before = count_links(stack.database_url, tenant.organization_id)
        reads.append(Read(time.monotonic(), before, usage(app, tenant)))
        if banner_seen_after is None and page.get_by_text(BANNER).first.is_visible():
            banner_seen_after = time.monotonic() - start
        assert_no_traceback(page)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    if not killed:  # requests hung past the freeze
        stack.redis.kill()
    stack.redis.start()  # empty, on the same port
    back = time.monotonic()

    # Every request of the outage was answered, quickly, and without a server error.
    slow = [a for a in created + [r.answer for r in reads] if a.seconds > REQUEST_BOUND]
    assert not slow, f"requests hung during the outage: {slow}"
    assert all(a.status == 201 for a in created), [a for a in created if a.status != 201]
    assert all(r.answer.status == 200 for r in reads), [r.answer for r in reads]
    # No stale usage once a worker can know the bus is gone (both workers answered).
    assert {r.answer.pid for r in reads} >= set(app.worker_pids()), "one worker served all"
    stale = [
        (round(r.started - start, 1), r.links_before, r.answer.body["usage"]["links"], r.answer.pid)
        for r in reads
        if r.started - start > CACHE_OFF_WITHIN
        and r.answer.body["usage"]["links"] < r.links_before
    ]
    assert not stale, f"stale usage served during the outage (t, truth, served, pid): {stale}"

    # The page showed the connection banner, and comes back by itself with current data.
    assert banner_seen_after is not None, "the page never showed it had lost its connection"
    expect(page.get_by_text(BANNER)).to_have_count(0, timeout=30_000)
    total = count_links(stack.database_url, tenant.organization_id)
    expect(label).to_have_text(f"{total} / {LIMIT}", timeout=20_000)
    recovered_in = time.monotonic() - back
    assert create_link(app, tenant).status == 201  # a change after the recovery…
    expect(label).to_have_text(f"{total + 1} / {LIMIT}", timeout=10_000)  # …moves the bar
    total += 1
    # Caches: nothing from before or during the outage is served by either worker.
    after = through_every_worker(app, lambda: usage(app, tenant))
    assert {a.body["usage"]["links"] for a in after} == {total}, after

    # Nothing written is lost: every 201 is in the database, and the counters are exact.
    with database(stack.database_url) as session:
        slugs = set(session.exec(select(Link.slug)).all())
    assert {a.body["slug"] for a in created} <= slugs
    assert counter_drift(stack.database_url) == []
    assert_no_traceback(page)
    assert page_errors == []
    context.close()
    print(
        f"banner after {banner_seen_after:.1f} s; page current {recovered_in:.1f} s after "
        f"Redis was back; slowest request {max(a.seconds for a in created):.2f} s"
    )


def create_link(app: RunningApp, tenant: Tenant) -> Answer:
    slug = f"out-{uuid.uuid4().hex[:10]}"
    body = {"target_url": f"https://example.com/{slug}", "slug": slug}
    return request(app, "POST", "/api/links", headers=tenant.headers, json_body=body)


def usage(app: RunningApp, tenant: Tenant) -> Answer:
    path = f"/api/organizations/{tenant.organization_ref}/usage"
    return request(app, "GET", path, headers=tenant.headers)


def assert_no_traceback(page: Page) -> None:
    assert "Traceback" not in page.content(), "the page shows a traceback"

