"""HTTP fixtures: the real API app (build_api) on the test database, and keys per role."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orgportal import db, security
from orgportal.api import build_api
from orgportal.api.rest.deps import limiter
from orgportal.models import Organization, Role, User
from orgportal.services import api_keys
from tests.factories import PASSWORD, add_member, make_org, make_user


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch) -> None:
    """Real argon2 at its lowest cost: these tests sign nobody in, and each team has seven
    users, whose default-cost hashes would dominate the run time."""
    monkeypatch.setattr(
        security, "argon2", security.argon2.using(rounds=1, memory_cost=64, parallelism=1)
    )


class Recorder:
    """Stands in for the live bus: remembers which organizations' usage was announced."""

    def __init__(self) -> None:
        self.published: list[set[tuple[str, int]]] = []

    def publish(self, changes) -> None:
        self.published.append(set(changes))

    def for_pages(self) -> list[set[tuple[str, int]]]:
        """What was announced, without the row topics only the REST read caches hear
        (`db.ORG_ROWS`…, sent with every write)."""
        rows = (db.ORG_ROWS, db.PERSONAL_ROWS, db.BULK_ROWS)
        return [{c for c in changes if c[0] not in rows} for changes in self.published]


@pytest.fixture
def live(monkeypatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(db, "bus", lambda: recorder)
    return recorder


@pytest.fixture
def client(engine, monkeypatch, live) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    limiter.reset()
    return TestClient(build_api())


def bearer(session: Session, user: User, organization_id: int | None = None) -> dict[str, str]:
    """Headers with a fresh key of `user` whose active workspace is `organization_id`."""
    raw, _ = api_keys.create_key(
        session, user=user, name="test", active_org_id=organization_id, password=PASSWORD
    )
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@dataclass
class Team:
    """One organization with a member of every role, and an outsider who is Admin elsewhere."""

    org: Organization
    other_org: Organization
    users: dict[str, User]
    keys: dict[str, dict[str, str]]  # by role value, "outsider" (Admin of Other Org) and
    # "other_owner" (Owner of Other Org)


@pytest.fixture
def team(session: Session) -> Team:
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner, "Acme Marketing Team")
    users = {Role.OWNER.value: owner}
    for role in (Role.ADMIN, Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER):
        users[role.value] = add_member(
            session, org, role, make_user(session, f"{role}@example.com")
        )
    other_owner = make_user(session, "other-owner@example.com")
    other_org = make_org(session, other_owner, "Other Org")
    users["outsider"] = add_member(
        session, other_org, Role.ADMIN, make_user(session, "outsider@example.com")
    )
    users["other_owner"] = other_owner
    roles = {role.value for role in Role}
    keys = {
        name: bearer(session, user, org.id if name in roles else other_org.id)
        for name, user in users.items()
    }
    return Team(org=org, other_org=other_org, users=users, keys=keys)
