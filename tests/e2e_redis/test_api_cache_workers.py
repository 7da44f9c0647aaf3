"""Two API workers, each with its own caches, never serve a change made
elsewhere stale for longer than the live bus takes to bring it (< 1 s).

Two uvicorn processes run the REST API (`build_api`, as the benchmark does) on one scratch
PostgreSQL database and one Redis: A and B. A change made through A (a new link, a removed
member) must be seen by B within a second, and by A at once; a key revoked by a third
process (this one, publishing on the same Redis) must be refused by both within a second.
First the test shows that B does answer from its cache: a write that nobody announces is
not seen by it, so the timings below measure invalidation, not a database read.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import Session

from orgportal import db
from orgportal.models import Link, Role, User
from orgportal.services import api_keys, clicks, links
from tests.e2e_redis.worker_pair import (
    BUS_LATENCY,
    as_third_worker,
    scratch_database,
    seconds_until,
    two_workers,
)
from tests.factories import PASSWORD, add_member, make_org, make_user

REDIS_URL = "redis://127.0.0.1:6379/8"  # not the app fixtures (5) nor the limiter tests (6)


@dataclass
class Cluster:
    a: httpx.Client
    b: httpx.Client
    url: str  # the database
    owner: User
    agent: User
    org_id: int
    keys: dict[str, dict[str, str]]
    agent_key_id: int
    org_ref: str  # its public id, as REST paths name it

    def usage(self, worker: httpx.Client, who: str = "owner") -> httpx.Response:
        return worker.get(f"/api/organizations/{self.org_ref}/usage", headers=self.keys[who])

    def links(self, worker: httpx.Client) -> int:
        response = self.usage(worker)
        assert response.status_code == 200, response.text
        return response.json()["usage"]["links"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    with scratch_database(REDIS_URL) as (url, engine):
        with Session(engine, expire_on_commit=False) as session:
            owner = make_user(session, "owner@example.com")
            org = make_org(session, owner, "Two Workers Co")
            agent = add_member(session, org, Role.AGENT, make_user(session, "agent@example.com"))
            raw_owner, _ = api_keys.create_key(
                session, user=owner, name="a", active_org_id=org.id, password=PASSWORD
            )
            raw_agent, key = api_keys.create_key(
                session, user=agent, name="b", active_org_id=org.id, password=PASSWORD
            )
            session.commit()
        engine.dispose()
        tmp = tmp_path_factory.mktemp("api-workers")
        with two_workers(
            "orgportal.api:build_api", url=url, redis_url=REDIS_URL, tmp=tmp,
            ready_path="/api/openapi.json",
        ) as (a, b):  # fmt: skip
            keys = {
                "owner": {"Authorization": f"Bearer {raw_owner}"},
                "agent": {"Authorization": f"Bearer {raw_agent}"},
            }
            yield Cluster(a, b, url, owner, agent, org.id, keys, key.id, org.public_id)


@pytest.fixture
def this_process_publishes(cluster, monkeypatch) -> Iterator[None]:
    with as_third_worker(cluster.url, REDIS_URL, monkeypatch):
        yield


def test_b_answers_from_its_cache(cluster, this_process_publishes):
    """An unannounced write (a link inserted with a bare session: no bus, no drop) is not
    seen by the workers, so the later tests time the bus, not a database read."""
    before = _warm(cluster)
    with Session(db.engine(), expire_on_commit=False) as session:
        links.create_link(
            session, user=cluster.owner, organization_id=cluster.org_id,
            target_url="https://unannounced.example",
        )  # fmt: skip
        session.commit()
    assert [cluster.links(cluster.b), cluster.links(cluster.a)] == [before, before]
    with db.unit_of_work() as session:  # now announce it: the next tests start level
        db.mark_usage_changed(session, [cluster.org_id])
    assert seconds_until(lambda: cluster.links(cluster.b) == before + 1) < BUS_LATENCY


def test_a_usage_change_through_a_reaches_b_within_the_bus_latency(cluster):
    _warm(cluster)
    created = cluster.a.post(
        "/api/links",
        json={"target_url": "https://announced.example"},
        headers=cluster.keys["owner"],
    )
    assert created.status_code == 201, created.text
    expected = _count_links(cluster)
    assert cluster.links(cluster.a) == expected  # the worker that made it: at once
    assert seconds_until(lambda: cluster.links(cluster.b) == expected) < BUS_LATENCY


def test_the_cached_details_links_and_stats_follow_changes_on_both_workers(
    cluster, this_process_publishes
):
    """The REST read caches (`api/rest/cached_reads.py`): a rename and a new link made
    through A, and a click recorded by a third process, reach B within the bus latency."""
    _warm(cluster)
    org_url, headers = f"/api/organizations/{cluster.org_ref}", cluster.keys["owner"]

    def read(worker: httpx.Client, url: str) -> dict:
        response = worker.get(url, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    first = read(cluster.a, "/api/links")["items"][0]["id"]
    stats = f"/api/links/{first}/stats"
    for worker in (cluster.a, cluster.b):
        for url in (org_url, "/api/links", stats):
            for _ in range(2):  # the second from the cache
                read(worker, url)
    renamed = cluster.a.put(org_url, json={"name": "Renamed Workers Co"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert read(cluster.a, org_url)["name"] == "Renamed Workers Co"  # at once
    named = lambda: read(cluster.b, org_url)["name"] == "Renamed Workers Co"  # noqa: E731
    assert seconds_until(named) < BUS_LATENCY
    total = read(cluster.b, "/api/links")["total"]
    made = cluster.a.post("/api/links", json={"target_url": "https://x.example"}, headers=headers)
    assert made.status_code == 201, made.text
    assert read(cluster.a, "/api/links")["total"] == total + 1
    listed = lambda: read(cluster.b, "/api/links")["total"] == total + 1  # noqa: E731
    assert seconds_until(listed) < BUS_LATENCY
    clicks_before = read(cluster.b, stats)["clicks"]
    with db.unit_of_work() as session:  # the click flush of a third process
        link = session.get(Link, first)
        hit = clicks.new_hit(
            link, user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
            referrer="", country="", visitor=clicks.new_visitor_id(),
        )  # fmt: skip
        clicks.record(session, [hit])
    for worker in (cluster.a, cluster.b):
        counted = lambda w=worker: read(w, stats)["clicks"] == clicks_before + 1  # noqa: E731
        assert seconds_until(counted) < BUS_LATENCY


def test_a_member_removed_through_a_is_refused_by_b_within_the_bus_latency(cluster):
    _warm(cluster)
    assert cluster.usage(cluster.b, "agent").status_code == 200
    removed = cluster.a.delete(
        f"/api/organizations/{cluster.org_ref}/members/{cluster.agent.public_id}",
        headers=cluster.keys["owner"],
    )
    assert removed.status_code == 200, removed.text
    assert cluster.usage(cluster.a, "agent").status_code == 404  # at once
    refused = lambda: cluster.usage(cluster.b, "agent").status_code == 404  # noqa: E731
    assert seconds_until(refused) < BUS_LATENCY


def test_a_key_revoked_elsewhere_is_refused_by_both_within_the_bus_latency(
    cluster, this_process_publishes
):
    _warm(cluster)
    with db.unit_of_work() as session:
        api_keys.revoke_key(session, user=cluster.owner, key_id=_owner_key_id(session, cluster))
    for worker in (cluster.a, cluster.b):
        revoked = lambda w=worker: cluster.usage(w).status_code == 401  # noqa: E731
        assert seconds_until(revoked) < BUS_LATENCY


def _warm(cluster: Cluster) -> int:
    """Both workers serve the owner's usage from their caches (listener heard, values in).
    A worker starts its cache listener on its first cached request: ask each first, then
    give the listeners time to hear their first heartbeat (~0.5 s; 2 s on a busy machine)."""
    for worker in (cluster.a, cluster.b):
        cluster.links(worker)
    time.sleep(2)
    counts = {cluster.links(worker) for worker in (cluster.a, cluster.b) for _ in range(3)}
    assert len(counts) == 1, counts
    return counts.pop()


def _count_links(cluster: Cluster) -> int:
    from sqlmodel import func, select

    from orgportal.models import Link

    engine = db.make_engine(cluster.url)
    try:
        with Session(engine) as session:
            return session.exec(
                select(func.count()).select_from(Link).where(Link.organization_id == cluster.org_id)
            ).one()
    finally:
        engine.dispose()


def _owner_key_id(session: Session, cluster: Cluster) -> int:
    return next(k.id for k in api_keys.list_keys(session, user=cluster.owner) if k.name == "a")
