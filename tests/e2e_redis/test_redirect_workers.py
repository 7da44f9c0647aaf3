"""Two workers, each with its own caches of links and custom hosts
(`services/redirect_cache.py`), never redirect to a changed link for longer than the live
bus takes to bring the change (< 1 s), and the worker that made it at once.

Two uvicorn processes serve the app's front door (`tests/redirect_front_door.py`: the
gateway with host routing in front of `RootShortLinks(build_api())`) on one scratch
PostgreSQL database and one Redis: A and B. First the test shows that both answer from
their caches (a write nobody announces is not seen), so the timings measure invalidation,
not a database read. Changes are made by this process (a third worker, publishing on the
same Redis) or through A's REST API.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session

from orgportal import db
from orgportal.models import CustomDomain, DomainStatus, Link, User
from orgportal.services import api_keys, custom_domains, link_approval
from tests.e2e_redis.worker_pair import (
    BUS_LATENCY,
    as_third_worker,
    scratch_database,
    seconds_until,
    two_workers,
)
from tests.factories import PASSWORD, make_org, make_user
from tests.services.test_custom_domains import subscribe

REDIS_URL = "redis://127.0.0.1:6379/11"  # its own: not the app fixtures' (5) nor others'
HOST = "go.acme.com"


@dataclass
class Cluster:
    a: httpx.Client
    b: httpx.Client
    url: str  # the database
    owner: User
    org_id: int
    domain_id: int
    key: dict[str, str]  # the owner's API key header

    def location(self, worker: httpx.Client, path: str, host: str | None = None) -> str | int:
        answer = worker.get(path, headers={"host": host} if host else {})
        return answer.headers["location"] if answer.status_code == 302 else answer.status_code


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    with scratch_database(REDIS_URL) as (url, engine):
        with Session(engine, expire_on_commit=False) as session:
            owner = make_user(session, "owner@acme.example.com")
            org = make_org(session, owner, "Acme")
            subscribe(session, org, "professional")
            domain = CustomDomain(
                organization_id=org.id, domain=HOST, token="t", status=DomainStatus.VERIFIED
            )
            session.add(domain)
            raw, _ = api_keys.create_key(
                session, user=owner, name="a", active_org_id=org.id, password=PASSWORD
            )
            session.commit()
        engine.dispose()
        tmp = tmp_path_factory.mktemp("redirect-workers")
        with two_workers(
            "tests.redirect_front_door:app", url=url, redis_url=REDIS_URL, tmp=tmp,
            ready_path="/healthz", CLICK_RECORDING="off",  # the clicks are not tested here
        ) as (a, b):  # fmt: skip
            key = {"Authorization": f"Bearer {raw}"}
            yield Cluster(a, b, url, owner, org.id, domain.id, key)


@pytest.fixture
def third_worker(cluster, monkeypatch) -> Iterator[None]:
    with as_third_worker(cluster.url, REDIS_URL, monkeypatch):
        yield


def _new_link(cluster: Cluster, slug: str, target: str) -> int:
    with db.unit_of_work() as session:
        link = Link(organization_id=cluster.org_id, owner_id=cluster.owner.id, slug=slug,
                    target_url=target)  # fmt: skip
        session.add(link)
        session.flush()
        assert link.id is not None
        return link.id


def _warm(cluster: Cluster, slug: str, expected: str) -> None:
    """Both workers redirect `slug` from their caches (listener heard, link in): each starts
    its listener on its first redirect, then hears its first heartbeat (~0.5 s)."""
    for worker in (cluster.a, cluster.b):
        cluster.location(worker, f"/l/{slug}")
        cluster.location(worker, f"/{slug}", HOST)
    time.sleep(2)
    for worker in (cluster.a, cluster.b):
        assert cluster.location(worker, f"/l/{slug}") == expected
        assert cluster.location(worker, f"/{slug}", HOST) == expected


def _everywhere(cluster: Cluster, slug: str, expected: str | int) -> Callable[[], bool]:
    def seen() -> bool:
        return all(
            cluster.location(w, path, host) == expected
            for w in (cluster.a, cluster.b)
            for path, host in ((f"/l/{slug}", None), (f"/{slug}", HOST))
        )

    return seen


def test_the_workers_answer_from_their_caches(cluster, third_worker):
    link_id = _new_link(cluster, "cached", "https://a.io/1")
    _warm(cluster, "cached", "https://a.io/1")
    with Session(db.engine()) as session:  # a bare session: no bus, no drop
        session.exec(update(Link).where(Link.id == link_id).values(target_url="https://a.io/2"))
        session.commit()
    time.sleep(BUS_LATENCY)
    assert _everywhere(cluster, "cached", "https://a.io/1")()
    with db.unit_of_work() as session:  # announce it: the workers follow
        db.mark_redirects_changed(session, [link_id])
    assert seconds_until(_everywhere(cluster, "cached", "https://a.io/2")) < BUS_LATENCY


def test_a_target_edit_elsewhere_reaches_both_within_the_bus_latency(cluster, third_worker):
    link_id = _new_link(cluster, "edited", "https://a.io/1")
    _warm(cluster, "edited", "https://a.io/1")
    with db.unit_of_work() as session:
        session.get(Link, link_id).target_url = "https://a.io/edited"
    assert seconds_until(_everywhere(cluster, "edited", "https://a.io/edited")) < BUS_LATENCY


def test_a_link_deleted_through_a_is_gone_at_once_on_a_and_soon_on_b(cluster, third_worker):
    link_id = _new_link(cluster, "deleted", "https://a.io/1")
    _warm(cluster, "deleted", "https://a.io/1")
    removed = cluster.a.delete(f"/api/links/{link_id}", headers=cluster.key)
    assert removed.is_success, removed.text
    assert cluster.location(cluster.a, "/l/deleted") == 404  # the worker that made it: at once
    assert cluster.location(cluster.a, "/deleted", HOST) == 404
    assert seconds_until(_everywhere(cluster, "deleted", 404)) < BUS_LATENCY


def test_the_approval_state_reaches_both_within_the_bus_latency(cluster, third_worker):
    link_id = _new_link(cluster, "pending", "https://a.io/1")
    _warm(cluster, "pending", "https://a.io/1")
    with db.unit_of_work() as session:
        session.get(Link, link_id).pending_approval = True
    waiting = lambda: all(  # noqa: E731
        w.get("/l/pending", headers={"accept": "application/json"}).status_code == 404
        and cluster.location(w, "/pending", HOST) == 404
        for w in (cluster.a, cluster.b)
    )
    assert seconds_until(waiting) < BUS_LATENCY
    with db.unit_of_work() as session:
        link_approval.approve_link(
            session, user=session.get(User, cluster.owner.id),
            organization_id=cluster.org_id, link_id=link_id,
        )  # fmt: skip
    assert seconds_until(_everywhere(cluster, "pending", "https://a.io/1")) < BUS_LATENCY


def test_an_unverified_then_removed_domain_stops_serving_within_the_bus_latency(
    cluster, third_worker
):
    _new_link(cluster, "domain", "https://a.io/1")
    _warm(cluster, "domain", "https://a.io/1")
    with db.unit_of_work() as session:
        session.get(CustomDomain, cluster.domain_id).status = DomainStatus.FAILED
    gone = lambda: all(  # noqa: E731
        cluster.location(w, "/domain", HOST) == 404 for w in (cluster.a, cluster.b)
    )
    assert seconds_until(gone) < BUS_LATENCY
    assert cluster.location(cluster.b, "/l/domain") == "https://a.io/1"
    with db.unit_of_work() as session:
        session.get(CustomDomain, cluster.domain_id).status = DomainStatus.VERIFIED
    assert seconds_until(_everywhere(cluster, "domain", "https://a.io/1")) < BUS_LATENCY
    with db.unit_of_work() as session:
        custom_domains.remove_domain(
            session, user=session.get(User, cluster.owner.id),
            organization_id=cluster.org_id, domain_id=cluster.domain_id,
        )  # fmt: skip
    assert seconds_until(gone) < BUS_LATENCY
