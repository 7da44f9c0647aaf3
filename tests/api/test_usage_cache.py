"""`GET /api/organizations/{id}/usage` from the worker's caches.

A repeated poll touches no database at all, and yet every change made in this worker is
seen by the very next request: usage, a revoked key, a removed member, a role change, the
organization's Security settings. (Other workers: tests/e2e_redis/test_api_cache_workers.py.)

The app runs with a real in-process live bus that delivers every message BUS_DELAY late (as
Redis pub/sub does, only slower), so "the next request" can only be right because the worker
that commits drops its own caches at the commit. Every change goes through `unit_of_work`,
as the app's own do.
"""

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.adapters.live import InProcessBus
from orgportal.api import build_api
from orgportal.api.rest.deps import limiter
from orgportal.models import Role, Subscription, User
from orgportal.models.base import utcnow
from orgportal.services import api_keys, invitations, links, members, org_security
from tests.factories import PASSWORD, add_member, make_org, make_user

BUS_DELAY = 0.3  # seconds


class LateBus(InProcessBus):
    """The in-process bus, each message delivered BUS_DELAY after its publication."""

    def publish(self, changes: Iterable[tuple[str, int]]) -> None:
        threading.Timer(BUS_DELAY, super().publish, [list(changes)]).start()


@dataclass
class Polled:
    client: TestClient
    engine: Engine
    owner: User
    agent: User
    org_id: int
    keys: dict[str, dict[str, str]]  # "owner", "agent": headers
    agent_key_id: int
    org_ref: str  # its public id, for the URLs

    def usage(self, who: str = "owner"):
        url = f"/api/organizations/{self.org_ref}/usage"
        return self.client.get(url, headers=self.keys[who])


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
        polled = Polled(client, engine, owner, agent, org.id, keys, agent_key.id, org.public_id)
        assert polled.usage().status_code == 200  # starts the cache listener
        _until(worker_cache.is_live)
        yield polled
    worker_cache.clear()


def test_a_repeated_poll_runs_no_sql(polled):
    first = polled.usage()
    polled.usage("agent")
    with _statements(polled.engine) as statements:
        again, agents = polled.usage(), polled.usage("agent")
    assert statements == []
    assert again.status_code == agents.status_code == 200
    assert again.json() == first.json() == agents.json()


def test_a_usage_change_in_this_worker_is_served_by_the_next_request(polled):
    assert polled.usage().json()["usage"]["links"] == 0
    with db.unit_of_work() as session:
        links.create_link(
            session, user=polled.owner, organization_id=polled.org_id, target_url="https://a.io"
        )
    assert polled.usage().json()["usage"]["links"] == 1
    assert polled.usage("agent").json()["usage"]["links"] == 1


def test_a_revoked_key_is_refused_by_the_next_request(polled):
    assert polled.usage("agent").status_code == 200
    with db.unit_of_work() as session:
        api_keys.revoke_key(session, user=polled.agent, key_id=polled.agent_key_id)
    refused = polled.usage("agent")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This API key has been revoked."}
    assert polled.usage().status_code == 200  # the owner's key is not affected


def test_a_revoked_workspace_token_or_its_key_is_refused_by_the_next_request(polled):
    """A workspace token is cached like a key, and dropped on every worker when it or its
    key is revoked (SPEC §8)."""
    switch = f"/api/organizations/{polled.org_ref}/switch"
    tokens = []
    for _ in range(2):
        raw = polled.client.post(switch, headers=polled.keys["agent"]).json()["token"]
        tokens.append({"Authorization": f"Bearer {raw}"})
    polled.keys.update(first=tokens[0], second=tokens[1])
    assert polled.usage("first").status_code == polled.usage("second").status_code == 200
    with _statements(polled.engine) as statements:
        assert polled.usage("first").status_code == 200
    assert statements == []  # served from the cache
    assert polled.client.delete("/api/workspace-token", headers=tokens[0]).is_success
    refused = polled.usage("first")
    assert refused.json() == {"detail": "This workspace token has been revoked."}
    assert polled.usage("second").status_code == 200
    with db.unit_of_work() as session:
        api_keys.revoke_key(session, user=polled.agent, key_id=polled.agent_key_id)
    assert polled.usage("second").status_code == 401


def test_a_removed_member_is_refused_by_the_next_request(polled):
    assert polled.usage("agent").status_code == 200
    removed = polled.client.delete(
        f"/api/organizations/{polled.org_ref}/members/{polled.agent.public_id}",
        headers=polled.keys["owner"],
    )
    assert removed.status_code == 200, removed.text
    assert polled.usage("agent").status_code == 404


def test_a_role_change_drops_the_cached_access(polled):
    polled.usage("agent")
    with db.unit_of_work() as session:
        members.change_role(
            session, user=polled.owner, organization_id=polled.org_id,
            member_id=polled.agent.id, role=Role.VIEWER,
        )  # fmt: skip
    with _statements(polled.engine) as statements:
        assert polled.usage("agent").status_code == 200  # a Viewer still reads usage
    assert statements, "the access was served from the cache after the role change"


def test_security_settings_apply_to_the_next_request(polled, session):
    session.add(
        Subscription(organization_id=polled.org_id, kind="plan", plan_key="professional",
                     status="active", stripe_subscription_id="sub_cache", interval="monthly")
    )  # fmt: skip
    session.commit()  # no announcement: as a plan change it is announced below, with usage
    with db.unit_of_work() as session:
        db.mark_usage_changed(session, [polled.org_id])
    assert polled.usage().status_code == 200
    with db.unit_of_work() as session:
        org_security.update_settings(
            session, user=polled.owner, organization_id=polled.org_id,
            require_two_factor=False, ip_allowlist="203.0.113.7",
            client_address="203.0.113.7",
        )  # fmt: skip
    refused = polled.usage()
    assert refused.status_code == 403
    assert "IP allowlist" in refused.json()["detail"]


def test_a_pending_invite_stops_taking_a_seat_when_it_expires(polled, session):
    """Expiry announces nothing: a cached read lives no longer than the next one."""
    with db.unit_of_work() as uow:
        invite = invitations.create_invite(
            uow, user=polled.owner, organization_id=polled.org_id,
            email="soon@example.com", role=Role.AGENT,
        )  # fmt: skip
    invite.expires_at = utcnow() + timedelta(seconds=1)
    session.add(invite)
    session.commit()
    with db.unit_of_work() as uow:
        db.mark_usage_changed(uow, [polled.org_id])
    time.sleep(2 * BUS_DELAY)  # the announcement has come back through the bus too
    assert polled.usage().json()["usage"]["members"] == 3  # owner, agent, the invite
    time.sleep(1.2)
    assert polled.usage().json()["usage"]["members"] == 2


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class _statements:
    """The SQL statements run on `engine` inside the block."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(statement)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)
