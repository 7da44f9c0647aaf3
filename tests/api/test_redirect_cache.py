"""Short-link redirects from the worker's caches (`services/redirect_cache.py`).

A repeated redirect touches no database, and yet every change to what it serves, made in
this worker, is seen by the very next redirect: a target edit, the click-id setting, a
deletion, the approval state, a custom domain removed or no longer verified, links deleted
in bulk, the organization deleted. (Other workers: tests/e2e_redis/test_redirect_workers.py.)

The requests go through the app's front door (`tests/redirect_front_door.py`: the gateway
with host routing in front of `RootShortLinks(build_api())`), with a real in-process live
bus that delivers every message BUS_DELAY late, so "the next redirect" can only be right
because the worker that commits drops its own caches at the commit. Every change goes
through `unit_of_work`, as the app's own do.
"""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, delete, select

from orgportal import db
from orgportal.adapters import worker_cache
from orgportal.api.click_recording import Followed, redirect, send_redirect
from orgportal.config import settings
from orgportal.models import CustomDomain, DomainStatus, Link, User
from orgportal.services import clicks, custom_domains, link_approval, links, organizations
from tests.api.test_usage_cache import LateBus, _statements, _until
from tests.factories import make_org, make_user
from tests.redirect_front_door import app as front_door
from tests.services.test_custom_domains import subscribe

HOST = "go.acme.com"


@dataclass
class Served:
    client: TestClient
    engine: Engine
    owner: User
    org_id: int
    link_id: int
    domain_id: int

    def location(self, path: str, host: str | None = None) -> str | int:
        """Where `path` redirects to, or the status when it does not."""
        headers = {"host": host} if host else {}
        answer = self.client.get(path, headers=headers)
        return answer.headers["location"] if answer.status_code == 302 else answer.status_code

    def everywhere(self) -> list[str | int]:
        """/l/sale, /sale and the custom domain's /sale."""
        return [self.location("/l/sale"), self.location("/sale"), self.location("/sale", HOST)]


@pytest.fixture
def served(engine, session: Session, monkeypatch) -> Iterator[Served]:
    bus = LateBus()
    monkeypatch.setattr(db, "bus", lambda: bus)
    monkeypatch.setattr(db, "engine", lambda: engine)
    worker_cache.clear()
    owner = make_user(session, "owner@acme.example.com")
    org = make_org(session, owner, "Acme")
    subscribe(session, org, "professional")
    domain = CustomDomain(
        organization_id=org.id, domain=HOST, token="t", status=DomainStatus.VERIFIED
    )
    link = Link(organization_id=org.id, owner_id=owner.id, slug="sale", target_url="https://a.io/1")
    session.add_all([domain, link])
    session.commit()
    base = "http://127.0.0.1"  # one of the app's own hosts
    with TestClient(front_door(), base_url=base, follow_redirects=False) as client:
        served = Served(client, engine, owner, org.id, link.id, domain.id)
        assert served.everywhere() == ["https://a.io/1"] * 3  # starts the cache listener
        _until(worker_cache.is_live)
        served.everywhere()  # now cached
        yield served
    worker_cache.clear()


def test_a_repeated_redirect_runs_no_sql(served, monkeypatch):
    monkeypatch.setattr(settings, "click_recording", "off")  # (tests record inline)
    with _statements(served.engine) as statements:
        assert served.everywhere() == ["https://a.io/1"] * 3
    assert statements == []


def test_an_edited_target_is_served_by_the_next_redirect(served):
    with db.unit_of_work() as session:
        session.get(Link, served.link_id).target_url = "https://a.io/2"
    assert served.everywhere() == ["https://a.io/2"] * 3


def test_the_click_id_setting_applies_to_the_next_redirect(served):
    with db.unit_of_work() as session:
        clicks.set_append_click_id(
            session, user=served.owner, organization_id=served.org_id,
            link_id=served.link_id, enabled=True,
        )  # fmt: skip
    assert all(str(at).startswith("https://a.io/1?op_click=") for at in served.everywhere())


def test_a_deleted_link_is_gone_for_the_next_redirect(served):
    with db.unit_of_work() as session:
        links.delete_link(
            session, user=served.owner, organization_id=served.org_id, link_id=served.link_id
        )
    assert served.location("/l/sale") == 404
    assert served.client.get("/sale").text == "a page of the app"  # /{slug}: on to the app
    assert served.location("/sale", HOST) == 404


def test_links_deleted_in_bulk_are_gone_for_the_next_redirect(served):
    with db.unit_of_work() as session:
        session.exec(delete(Link).where(Link.owner_id == served.owner.id))
    assert served.location("/l/sale") == 404
    assert served.location("/sale", HOST) == 404


def test_a_deleted_organizations_links_are_gone_for_the_next_redirect(served):
    with db.unit_of_work() as session:
        organizations.delete_organization(
            session, user=session.get(User, served.owner.id),
            organization_id=served.org_id, confirm_name="Acme",
        )  # fmt: skip
    assert served.location("/l/sale") == 404
    assert served.location("/sale", HOST) == 404


def test_the_approval_state_applies_to_the_next_redirect(served):
    with db.unit_of_work() as session:
        session.get(Link, served.link_id).pending_approval = True
    pending = served.client.get("/l/sale", headers={"accept": "text/html"})
    assert pending.status_code == 200 and "approval" in pending.text  # the awaiting page
    assert served.client.get("/sale", headers={"accept": "application/json"}).status_code == 404
    assert served.location("/sale", HOST) == 404
    with db.unit_of_work() as session:
        link_approval.approve_link(
            session, user=session.get(User, served.owner.id),
            organization_id=served.org_id, link_id=served.link_id,
        )  # fmt: skip
    assert served.everywhere() == ["https://a.io/1"] * 3


def test_a_removed_custom_domain_stops_serving_at_once(served):
    with db.unit_of_work() as session:
        custom_domains.remove_domain(
            session, user=session.get(User, served.owner.id),
            organization_id=served.org_id, domain_id=served.domain_id,
        )  # fmt: skip
    assert served.location("/sale", HOST) == 404
    assert served.location("/l/sale") == "https://a.io/1"  # the app's own host still serves


def test_an_unverified_custom_domain_stops_serving_at_once(served):
    with db.unit_of_work() as session:
        session.get(CustomDomain, served.domain_id).status = DomainStatus.FAILED
    assert served.location("/sale", HOST) == 404
    with db.unit_of_work() as session:
        session.get(CustomDomain, served.domain_id).status = DomainStatus.VERIFIED
    assert served.location("/sale", HOST) == "https://a.io/1"


def test_another_organizations_link_is_not_served_on_the_custom_domain(served, session):
    other = make_org(session, make_user(session, "o@example.com"), "Other")
    session.add(Link(organization_id=other.id, owner_id=other.id, slug="theirs",
                     target_url="https://b.io"))  # fmt: skip
    session.commit()
    assert served.location("/theirs", HOST) == 404
    assert served.location("/l/theirs") == "https://b.io"


def test_a_new_link_is_found_at_once(served):
    """Only found links are cached: a slug that was missing is looked up again."""
    assert served.location("/l/new-one") == 404
    with db.unit_of_work() as session:
        owner = session.get(User, served.owner.id)
        links.create_link(session, user=owner, organization_id=served.org_id,
                          target_url="https://c.io", slug="new-one")  # fmt: skip
    assert served.location("/l/new-one") == "https://c.io"


def test_without_the_bus_heartbeat_nothing_is_served_from_the_cache(served, monkeypatch):
    monkeypatch.setattr(settings, "click_recording", "off")
    worker_cache._registry.heard = float("-inf")  # deaf: messages may have been lost
    with _statements(served.engine) as statements:
        assert served.location("/l/sale") == "https://a.io/1"
    assert statements, "a redirect was served from the cache while the bus was deaf"


def test_every_redirect_is_observed_and_carries_the_security_headers(served):
    for host in (None, HOST):
        served.client.cookies.clear()  # a new visitor
        answer = served.client.get("/l/sale" if host is None else "/sale",
                                   headers={"host": host} if host else {})  # fmt: skip
        assert answer.status_code == 302
        assert answer.headers["x-request-id"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in answer.headers
        assert "op_vid=" in answer.headers["set-cookie"]


def test_a_redirect_sets_no_browser_nonce_but_a_page_behind_a_slug_does(served):
    """The nonce cookie (login CSRF) is set on a page load; a redirect to another site loads
    none of ours. A slug that is no link goes on to the app's page, which gets it."""
    for path in ("/l/sale", "/sale"):
        served.client.cookies.clear()
        answer = served.client.get(path)
        assert answer.status_code == 302
        assert settings.browser_cookie not in answer.headers.get("set-cookie", "")
    served.client.cookies.clear()
    page = served.client.get("/no-such-link")  # the app's own (stand-in) page
    assert page.status_code == 404 and page.text == "a page of the app"
    assert page.headers["set-cookie"].startswith(f"{settings.browser_cookie}=")
    assert "content-security-policy" in page.headers


def test_the_fast_redirect_sends_the_same_bytes_as_the_response():
    for followed in (Followed("https://a.io/x y?q=é#top", "v" * 22), Followed("/there")):
        fast: list[dict] = []
        slow: list[dict] = []

        async def both(fast=fast, slow=slow, followed=followed) -> None:
            await send_redirect(followed, _into(fast))
            await redirect(followed)({"type": "http"}, _nothing, _into(slow))

        asyncio.run(both())
        assert fast == slow


def _into(messages: list[dict]):
    async def send(message) -> None:
        messages.append(message)

    return send


async def _nothing() -> dict:
    return {}


def test_link_rows_are_the_same_in_the_cache_and_the_database(served):
    with Session(served.engine) as session:
        row = session.exec(select(Link).where(Link.slug == "sale")).one()
    from orgportal.services import redirect_cache

    assert redirect_cache.cached_link("SALE") == redirect_cache.Redirect.of(row)
