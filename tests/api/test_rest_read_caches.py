"""Organization details, the links list and link stats from the worker's caches
(`api/rest/cached_reads.py`).

A repeated poll touches no database, and yet every change is seen by the very next request
in the worker that made it (dropped at the commit), and by other workers as soon as the
live bus brings it; refusals (revoked key or workspace token, removed member, Security
settings, organization key scopes) hold on every request. The app runs with the usage
cache tests' late in-process bus (`test_usage_cache.LateBus`): a message arrives
BUS_DELAY after its publication.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.api import build_api
from orgportal.api.rest.deps import limiter
from orgportal.models import Link, Role, Subscription, User
from orgportal.services import (
    api_keys,
    clicks,
    links,
    members,
    org_security,
    organization_keys,
    projects,
)
from orgportal.services import organizations as orgs
from tests.api.test_usage_cache import BUS_DELAY, LateBus, _statements, _until
from tests.factories import PASSWORD, add_member, make_org, make_user


@dataclass
class Polled:
    client: TestClient
    engine: Engine
    owner: User
    agent: User
    org_id: int
    org_ref: str
    link_id: int
    keys: dict[str, dict[str, str]]
    agent_key_id: int

    def get(self, what: str, who: str = "owner"):
        url = {
            "organization": f"/api/organizations/{self.org_ref}",
            "links": "/api/links",
            "stats": f"/api/links/{self.link_id}/stats",
        }[what]
        return self.client.get(url, headers=self.keys[who])


ROUTES = ("organization", "links", "stats")


@pytest.fixture
def polled(engine, session: Session, monkeypatch) -> Iterator[Polled]:
    bus = LateBus()
    monkeypatch.setattr(db, "bus", lambda: bus)
    monkeypatch.setattr(db, "engine", lambda: engine)
    limiter.reset()
    worker_cache.clear()
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner, "Polled Co")
    agent = add_member(session, org, Role.AGENT, make_user(session, "agent@example.com"))
    link = links.create_link(
        session, user=owner, organization_id=org.id, target_url="https://a.example.com/"
    )
    raw_owner, _ = api_keys.create_key(
        session, user=owner, name="mon", active_org_id=org.id, password=PASSWORD
    )
    raw_agent, agent_key = api_keys.create_key(
        session, user=agent, name="mon", active_org_id=org.id, password=PASSWORD
    )
    session.commit()
    keys = {
        "owner": {"Authorization": f"Bearer {raw_owner}"},
        "agent": {"Authorization": f"Bearer {raw_agent}"},
    }
    with TestClient(build_api()) as client:  # one event loop throughout, as in a worker
        polled = Polled(
            client, engine, owner, agent, org.id, org.public_id, link.id, keys, agent_key.id
        )
        assert polled.get("organization").status_code == 200  # starts the cache listener
        _until(worker_cache.is_live)
        yield polled
    worker_cache.clear()


def _warm(polled: Polled, who: str = "owner") -> None:
    """Each route read twice: the second from the cache, as a polled route would be."""
    for what in ROUTES:
        for _ in range(2):
            assert polled.get(what, who).status_code == 200, polled.get(what, who).text


@pytest.mark.parametrize("what", ROUTES)
def test_a_repeated_poll_runs_no_sql_and_answers_the_same(polled, what):
    first = polled.get(what)
    polled.get(what, "agent")
    with _statements(polled.engine) as statements:
        again, agents = polled.get(what), polled.get(what, "agent")
    assert statements == []
    assert again.status_code == agents.status_code == 200
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/json"


def _click(link_id: int) -> None:
    with db.unit_of_work() as session:
        link = session.get(Link, link_id)
        hit = clicks.new_hit(
            link,
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            referrer="https://news.example.org/",
            country="",
            visitor=clicks.new_visitor_id(),
        )
        clicks.record(session, [hit])


# --- the worker that commits: the very next request -----------------------------------------


def test_organization_details_follow_profile_settings_projects_and_links(polled):
    _warm(polled)
    with db.unit_of_work() as session:
        orgs.update_profile(
            session, user=polled.owner, organization_id=polled.org_id,
            name="Renamed Co", description="new", logo_url="",
        )  # fmt: skip
    body = polled.get("organization").json()
    assert (body["name"], body["description"]) == ("Renamed Co", "new")
    with db.unit_of_work() as session:
        projects.create_project(
            session, user=polled.owner, organization_id=polled.org_id, name="Spring"
        )
    assert polled.get("organization").json()["project_count"] == 1
    with db.unit_of_work() as session:
        links.create_link(
            session, user=polled.agent, organization_id=polled.org_id, target_url="https://b.io"
        )
    assert polled.get("organization").json()["link_count"] == 2
    assert polled.get("organization", "agent").json()["link_count"] == 2


def test_organization_details_follow_a_role_change_and_a_removal(polled):
    _warm(polled, "agent")
    with db.unit_of_work() as session:
        members.change_role(
            session, user=polled.owner, organization_id=polled.org_id,
            member_id=polled.agent.id, role=Role.VIEWER,
        )  # fmt: skip
    assert polled.get("organization", "agent").json()["role"] == Role.VIEWER
    with db.unit_of_work() as session:
        members.remove_member(
            session, user=polled.owner, organization_id=polled.org_id, member_id=polled.agent.id
        )
    for what in ROUTES:
        assert polled.get(what, "agent").status_code in (404, 200)
    assert polled.get("organization", "agent").status_code == 404
    assert polled.get("stats", "agent").status_code == 404
    # the key falls back to its Personal Workspace, as it did before caching
    listed = polled.get("links", "agent").json()
    assert listed["total"] == 0


def test_the_links_list_follows_new_moved_and_deleted_links(polled):
    _warm(polled)
    assert polled.get("links").json()["total"] == 1
    with db.unit_of_work() as session:
        made = links.create_link(
            session, user=polled.owner, organization_id=polled.org_id, target_url="https://b.io"
        )
    assert polled.get("links").json()["total"] == 2
    with db.unit_of_work() as session:
        project = projects.create_project(
            session, user=polled.owner, organization_id=polled.org_id, name="Spring"
        )
    with db.unit_of_work() as session:
        links.set_link_project(
            session, user=polled.owner, organization_id=polled.org_id,
            link_id=made.id, project_id=project.id,
        )  # fmt: skip
    items = polled.get("links").json()["items"]
    assert {item["id"]: item["project_id"] for item in items}[made.id] == project.id
    with db.unit_of_work() as session:
        links.delete_link(
            session, user=polled.owner, organization_id=polled.org_id, link_id=made.id
        )
    assert polled.get("links").json()["total"] == 1
    assert polled.get("links", "agent").json()["total"] == 1


def test_link_stats_follow_new_clicks_and_the_link_deleted(polled):
    _warm(polled)
    assert polled.get("stats").json()["clicks"] == 0
    _click(polled.link_id)  # the click flush marks the analytics topic
    assert polled.get("stats").json()["clicks"] == 1
    assert polled.get("stats", "agent").json()["clicks"] == 1
    with db.unit_of_work() as session:
        links.delete_link(
            session, user=polled.owner, organization_id=polled.org_id, link_id=polled.link_id
        )
    assert polled.get("stats").status_code == 404


def test_revoked_keys_and_workspace_tokens_are_refused_by_the_next_request(polled):
    switch = f"/api/organizations/{polled.org_ref}/switch"
    raw = polled.client.post(switch, headers=polled.keys["agent"]).json()["token"]
    polled.keys["token"] = {"Authorization": f"Bearer {raw}"}
    _warm(polled, "token")
    _warm(polled, "agent")
    assert polled.client.delete("/api/workspace-token", headers=polled.keys["token"]).is_success
    for what in ROUTES:
        assert polled.get(what, "token").status_code == 401
    with db.unit_of_work() as session:
        api_keys.revoke_key(session, user=polled.agent, key_id=polled.agent_key_id)
    for what in ROUTES:
        assert polled.get(what, "agent").status_code == 401
        assert polled.get(what).status_code == 200  # the owner's key is not affected


def test_security_settings_apply_to_the_next_request(polled, session):
    session.add(
        Subscription(organization_id=polled.org_id, kind="plan", plan_key="professional",
                     status="active", stripe_subscription_id="sub_cache", interval="monthly")
    )  # fmt: skip
    session.commit()
    with db.unit_of_work() as session:
        db.mark_usage_changed(session, [polled.org_id])
    _warm(polled)
    with db.unit_of_work() as session:
        org_security.update_settings(
            session, user=polled.owner, organization_id=polled.org_id,
            require_two_factor=False, ip_allowlist="203.0.113.7",
            client_address="203.0.113.7",
        )  # fmt: skip
    for what in ROUTES:
        refused = polled.get(what)
        assert refused.status_code == 403, (what, refused.text)
        assert "IP allowlist" in refused.json()["detail"]


def test_organization_key_scopes_hold_on_every_request(polled, session):
    raw, key = organization_keys.create_key(
        session, user=polled.owner, organization_id=polled.org_id, name="Svc",
        scopes=["links"], password=PASSWORD,
    )  # fmt: skip
    session.commit()
    polled.keys["service"] = {"Authorization": f"Bearer {raw}"}
    for _ in range(2):
        assert polled.get("links", "service").status_code == 200
    with db.unit_of_work() as session:
        organization_keys.revoke_key(
            session, user=polled.owner, organization_id=polled.org_id, key_id=key.id
        )
    assert polled.get("links", "service").status_code == 401


# --- other workers: as soon as the bus brings the change ------------------------------------


class _elsewhere:
    """A change committed by another worker: this one's caches are not dropped at its
    commit, only when its announcement arrives over the bus."""

    def __init__(self) -> None:
        self.patch = pytest.MonkeyPatch()

    def __enter__(self) -> None:
        self.patch.setattr(worker_cache, "drop_local", lambda changes: None)

    def __exit__(self, *_exc) -> None:
        self.patch.undo()


def _seen_within_the_bus_delay(read, expected) -> None:
    deadline = time.monotonic() + 2 * BUS_DELAY + 1.0
    while read() != expected:
        assert time.monotonic() < deadline, f"still {read()!r}, not {expected!r}"
        time.sleep(0.02)


def test_another_workers_changes_arrive_over_the_bus(polled):
    _warm(polled)
    with _elsewhere(), db.unit_of_work() as session:
        orgs.update_profile(
            session, user=polled.owner, organization_id=polled.org_id,
            name="Elsewhere Co", description="", logo_url="",
        )  # fmt: skip
        links.create_link(
            session, user=polled.owner, organization_id=polled.org_id, target_url="https://c.io"
        )
    # served from the cache until the announcement arrives: the cache is what is tested
    assert polled.get("organization").json()["name"] == "Polled Co"
    assert polled.get("links").json()["total"] == 1
    _seen_within_the_bus_delay(lambda: polled.get("organization").json()["name"], "Elsewhere Co")
    _seen_within_the_bus_delay(lambda: polled.get("links").json()["total"], 2)
    _warm(polled)  # the stats were dropped with the rows above: read them again
    with _elsewhere():
        _click(polled.link_id)
    assert polled.get("stats").json()["clicks"] == 0
    _seen_within_the_bus_delay(lambda: polled.get("stats").json()["clicks"], 1)
    _warm(polled, "agent")
    with _elsewhere(), db.unit_of_work() as session:
        members.remove_member(
            session, user=polled.owner, organization_id=polled.org_id, member_id=polled.agent.id
        )
    _seen_within_the_bus_delay(lambda: polled.get("stats", "agent").status_code, 404)
    _seen_within_the_bus_delay(lambda: polled.get("organization", "agent").status_code, 404)


def test_nothing_is_served_from_the_caches_when_the_bus_is_deaf(polled, monkeypatch):
    _warm(polled)
    monkeypatch.setattr(worker_cache._registry, "heard", float("-inf"))
    monkeypatch.setattr(worker_cache, "RESTART_AFTER", 3600.0)  # keep it deaf for the test
    with _statements(polled.engine) as statements:
        for what in ROUTES:
            assert polled.get(what).status_code == 200
    assert statements, "served from a cache while the bus was deaf"


# --- plain requests answered without FastAPI's dependency solving (`rest/direct.py`) ----


def test_a_read_answered_directly_or_by_fastapi_is_the_same(polled):
    """A plain poll is answered by the route called directly; the same read with a query
    parameter the route ignores, or a spelling of a number the direct reader leaves alone,
    goes through FastAPI's handler: same status, same bytes, same content type."""
    paths = {
        "links": ["/api/links", "/api/links?limit=50&offset=0", "/api/links?unknown=1"],
        "stats": [
            f"/api/links/{polled.link_id}/stats",
            f"/api/links/{polled.link_id}/stats?unknown=1",
            f"/api/links/{polled.link_id}/stats?to=" + _today(),
            f"/api/links/{polled.link_id}/stats?to=" + _today() + "&to=" + _today(),
        ],
    }
    for variants in paths.values():
        answers = [polled.client.get(p, headers=polled.keys["owner"]) for p in variants * 2]
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        assert {a.headers["content-type"] for a in answers} == {"application/json"}


def _hot_lane(client: TestClient):
    """The API app's `HotReads` middleware (built on the first request)."""
    from orgportal.api.rest.hot_reads import HotReads

    layer = client.app.middleware_stack
    while not isinstance(layer, HotReads):
        layer = layer.app
    return layer


def test_a_hot_reads_second_get_skips_fastapis_routing(polled):
    """The first GET of a hot read's path goes through FastAPI; its route is remembered and
    later GETs of the path are answered in front of the router, byte for byte the same.
    Other paths and methods are never remembered."""
    usage = f"/api/organizations/{polled.org_ref}/usage"
    reads = [usage, f"/api/organizations/{polled.org_ref}", "/api/links"]
    reads.append(f"/api/links/{polled.link_id}/stats")
    lane = _hot_lane(polled.client)
    lane.forget()
    first = {path: polled.client.get(path, headers=polled.keys["owner"]) for path in reads}
    assert set(lane.remembered()) == set(reads)
    assert set(lane.remembered().values()) == {
        "/organizations/{organization_id}/usage",
        "/organizations/{organization_id}",
        "/links",
        "/links/{link_id}/stats",
    }
    for path in reads:
        again = polled.client.get(path, headers=polled.keys["owner"])
        assert (again.status_code, again.content) == (first[path].status_code, first[path].content)
        assert again.headers["content-type"] == first[path].headers["content-type"]
    for path in ("/api/me", "/api/docs", f"/api/links/{polled.link_id}"):
        polled.client.get(path, headers=polled.keys["owner"])
    polled.client.post("/api/links", headers=polled.keys["owner"], json={"url": "not a url"})
    assert set(lane.remembered()) == set(reads)


def test_the_hot_lane_refuses_and_fails_as_fastapi_does(polled, tmp_path, monkeypatch):
    """Refusals answered in front of the router are FastAPI's: a bad key's 401, a
    non-member's 404, and a database that went away is the app's 503 (its exception
    handler), the same bytes as the first, routed, request got."""
    from sqlmodel import create_engine

    lane = _hot_lane(polled.client)
    usage = f"/api/organizations/{polled.org_ref}/usage"
    outsider = {"Authorization": "Bearer op_nope"}
    for headers in (outsider, polled.keys["owner"]):
        lane.forget()
        routed = polled.client.get(usage, headers=headers)
        assert usage in lane.remembered()
        direct = polled.client.get(usage, headers=headers)
        assert (direct.status_code, direct.content) == (routed.status_code, routed.content)
    assert routed.status_code == 200
    gone = create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    monkeypatch.setattr(db, "engine", lambda: gone)
    worker_cache.clear()  # the next reads need the database
    lane.forget()
    routed = polled.client.get(usage, headers=polled.keys["owner"])
    worker_cache.clear()
    direct = polled.client.get(usage, headers=polled.keys["owner"])
    assert routed.status_code == direct.status_code == 503
    assert direct.content == routed.content and direct.headers["Retry-After"] == "2"


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


def test_without_a_key_bad_parameters_are_401_and_with_one_422(polled):
    """The direct reader leaves malformed parameters to FastAPI, whose caller dependency
    refuses a missing key first: 401, never 422; with a key, the 422 (or 404)."""
    bad = [
        "/api/organizations/org_NOT-AN-ID/usage",
        "/api/organizations/org_NOT-AN-ID",
        "/api/links?limit=0",
        "/api/links?limit=abc",
        "/api/links?offset=-1",
        "/api/links/0/stats",
        "/api/links/abc/stats",
        f"/api/links/{polled.link_id}/stats?from=yesterday",
    ]
    for path in bad:
        assert polled.client.get(path).status_code == 401, path
        wrong_key = {"Authorization": "Bearer op_nope"}
        assert polled.client.get(path, headers=wrong_key).status_code == 401, path
        assert polled.client.get(path, headers=polled.keys["owner"]).status_code == 422, path
    unknown = "/api/organizations/org_abc123def456"
    assert polled.client.get(unknown).status_code == 401
    assert polled.client.get(unknown, headers=polled.keys["owner"]).status_code == 404
    assert polled.client.get(unknown + "/usage", headers=polled.keys["owner"]).status_code == 404


def test_each_request_counts_once_against_the_limit_on_either_path(polled, monkeypatch):
    """Plain polls (answered directly) and polls FastAPI answers each count one hit: the
    limit passes exactly, then 429 with Retry-After, on every hot route."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "api_rate_limit", 8)
    limiter.reset()
    reads = [
        f"/api/organizations/{polled.org_ref}/usage",
        f"/api/organizations/{polled.org_ref}",
        "/api/links",
        "/api/links?unknown=1",
        f"/api/links/{polled.link_id}/stats",
        f"/api/links/{polled.link_id}/stats?unknown=1",
    ]
    statuses = [
        polled.client.get(reads[n % len(reads)], headers=polled.keys["agent"]).status_code
        for n in range(12)
    ]
    assert statuses == [200] * 8 + [429] * 4, statuses
    refused = polled.client.get(reads[0], headers=polled.keys["agent"])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    limiter.reset()


# --- the per-key rate limit, leased from Redis ----------------------------------------------

LIMIT_REDIS = "redis://127.0.0.1:6379/12"


def test_cached_reads_are_rate_limited_exactly_with_the_limit_in_redis(polled, monkeypatch):
    """Two workers' limiters (leasing hits from Redis) share one key's limit: cached reads
    pass the limit exactly, then each answers 429 with a Retry-After of the window's rest."""
    import uuid

    import redis

    from orgportal.adapters.rate_limit import RedisLimiter
    from orgportal.api.rest import deps

    try:
        redis.Redis.from_url(LIMIT_REDIS).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    name = f"test-rest-{uuid.uuid4().hex[:8]}"
    workers = [RedisLimiter(name, 20, 60, LIMIT_REDIS) for _ in range(2)]
    statuses, retry_after = [], []
    try:
        for n in range(30):
            monkeypatch.setattr(deps, "limiter", workers[n % 2])  # alternate "workers"
            response = polled.get(ROUTES[n % 3])
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.append(int(response.headers["Retry-After"]))
    finally:
        for worker in workers:
            worker.reset()
    assert statuses.count(200) == 20 and statuses.count(429) == 10, statuses
    assert all(59 <= seconds <= 61 for seconds in retry_after), retry_after


def test_the_polled_routes_tried_first_shadow_no_other_route():
    """`rest.routers` puts the polled reads first: no other GET route's path may be one of
    theirs, or moving them first would have changed which route answers it."""
    import re

    from starlette.routing import compile_path

    from orgportal.api import rest
    from orgportal.api.rest import analytics, links, organizations

    hot = [
        rest.PREFIX + r.path
        for h in (organizations.hot, links.hot, analytics.hot)
        for r in h.routes
    ]
    assert len(hot) == 4
    others = [
        rest.PREFIX + route.path
        for router in rest.routers
        for route in router.routes
        if "GET" in route.methods and rest.PREFIX + route.path not in hot
    ]
    for path in hot:
        pattern = compile_path(path)[0]
        for other in others:
            for value in ("1", "org_abc123def456", "org_personal", "pending", "personal"):
                assert not pattern.match(re.sub(r"\{[^}]+\}", value, other)), (path, other)
