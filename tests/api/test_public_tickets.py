"""POST /api/public/organizations/{slug}/tickets over HTTP: origins, CORS, bodies, rate limits."""

from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from orgportal import db
from orgportal.adapters.rate_limit import MemoryLimiter
from orgportal.api import build_api, public_tickets
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.models import Ticket
from orgportal.services import domains
from tests.factories import make_org, make_user

BODY = {"name": "Rita", "email": "rita@example.com", "subject": "Help", "message": "Please."}
ALLOWED = "https://example.com"


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    """The real API app on the test database, with fresh rate limits."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(public_tickets, "per_ip", MemoryLimiter("ip", 100, 60))
    monkeypatch.setattr(public_tickets, "per_organization", MemoryLimiter("org", 100, 60))
    return TestClient(build_api())


@pytest.fixture
def org(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    domains.add_domain(session, user=owner, organization_id=org.id, domain="example.com")
    session.commit()
    return org


def post(client: TestClient, org, origin: str | None = ALLOWED, body=BODY, **kwargs):
    headers = {"Origin": origin} if origin else {}
    url = f"/api/public/organizations/{org.slug}/tickets"
    return client.post(url, json=body, headers=headers, **kwargs)


def stored(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Ticket)).one()


@pytest.mark.parametrize(
    "origin", [ALLOWED, "https://shop.example.com", "http://a.example.com:8080"]
)
def test_authorized_domain_and_its_subdomains_create_a_ticket(client, org, session, origin):
    response = post(client, org, origin)
    assert response.status_code == 201
    assert response.json() == {"number": "TKT-001"}
    assert response.headers["access-control-allow-origin"] == origin
    assert "Origin" in response.headers["vary"]
    assert stored(session) == 1


@pytest.mark.parametrize(
    "origin", ["https://evilexample.com", "https://example.com.evil.net", "null", None]
)
def test_other_or_missing_origins_get_403_no_cors_and_nothing_is_stored(
    client, org, session, origin
):
    response = post(client, org, origin)
    assert response.status_code == 403
    assert "not authorized" in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers
    assert stored(session) == 0


def test_unknown_organization_is_404(client, org):
    response = client.post(
        "/api/public/organizations/nope/tickets", json=BODY, headers={"Origin": ALLOWED}
    )
    assert response.status_code == 404
    assert "access-control-allow-origin" not in response.headers


def test_preflight_answers_only_authorized_origins(client, org):
    url = f"/api/public/organizations/{org.slug}/tickets"
    asking = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    ok = client.options(url, headers={"Origin": "https://shop.example.com", **asking})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert ok.headers["access-control-allow-headers"].lower() == "content-type"

    refused = client.options(url, headers={"Origin": "https://evilexample.com", **asking})
    assert refused.status_code == 403
    assert not any(h.startswith("access-control-") for h in refused.headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "email": "nope"}, "email"),
        ({**BODY, "subject": ""}, "subject"),
        ({**BODY, "subject": "Help\r\nBcc: all@evil.test"}, "subject"),
        ({**BODY, "name": "x" * 101}, "name"),
        ({k: v for k, v in BODY.items() if k != "message"}, "message"),
        ([1, 2], "body"),
    ],
)
def test_bad_bodies_are_422_with_detail_and_nothing_is_stored(client, org, session, body, field):
    response = post(client, org, body=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert isinstance(response.json()["detail"], str)
    assert response.headers["access-control-allow-origin"] == ALLOWED  # the widget can read it
    assert stored(session) == 0


def test_not_json_and_too_large_bodies(client, org, session):
    url = f"/api/public/organizations/{org.slug}/tickets"
    headers = {"Origin": ALLOWED, "Content-Type": "application/json"}
    assert client.post(url, content=b"{not json", headers=headers).status_code == 422
    huge = {**BODY, "message": "x" * (public_tickets.MAX_BODY_BYTES + 1)}
    assert post(client, org, body=huge).status_code == 413
    assert stored(session) == 0


def test_rate_limit_per_ip(client, org, session, monkeypatch):
    owner = make_user(session)
    second = make_org(session, owner, "Second Org")
    domains.add_domain(session, user=owner, organization_id=second.id, domain="example.com")
    session.commit()
    monkeypatch.setattr(public_tickets.per_ip, "limit", 2)
    assert post(client, org).status_code == 201
    assert post(client, second).status_code == 201
    limited = post(client, org)  # same address, any organization
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["access-control-allow-origin"] == ALLOWED
    assert stored(session) == 2


def test_rate_limit_per_organization(client, org, session, monkeypatch):
    monkeypatch.setattr(public_tickets.per_organization, "limit", 3)
    assert [post(client, org).status_code for _ in range(4)] == [201, 201, 201, 429]
    assert stored(session) == 3


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(engine, org, monkeypatch):
    """SPEC §11: X-Forwarded-For counts only when the peer is one of TRUSTED_PROXIES."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(public_tickets, "per_ip", MemoryLimiter("ip", 1, 60))
    monkeypatch.setattr(public_tickets, "per_organization", MemoryLimiter("org", 100, 60))
    proxy = TestClient(build_api(), client=("10.0.0.2", 50000))

    def status(client: TestClient, forwarded_for: str) -> int:
        headers = {"Origin": ALLOWED, "X-Forwarded-For": forwarded_for}
        url = f"/api/public/organizations/{org.slug}/tickets"
        return client.post(url, json=BODY, headers=headers).status_code

    assert [status(proxy, "198.51.100.1"), status(proxy, "198.51.100.2")] == [201, 429]
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.0/8")])
    assert [status(proxy, "198.51.100.1"), status(proxy, "198.51.100.2")] == [201, 201]
    assert status(proxy, "198.51.100.3, 198.51.100.1") == 429  # forged left part: ignored


def reflex_like(app) -> Starlette:
    """What Reflex does to the API: mount it under an allow-all, credentialed CORS middleware."""
    outer = Starlette()
    outer.mount("", app)
    outer.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return outer


def test_reflex_allow_all_cors_is_bypassed_for_the_public_routes(client, org, session):
    url = f"/api/public/organizations/{org.slug}/tickets"
    evil = {"Origin": "https://evilexample.com"}
    preflight = {**evil, "Access-Control-Request-Method": "POST"}

    wrapped = TestClient(reflex_like(build_api()))  # the problem: every origin is echoed
    assert wrapped.options(url, headers=preflight).headers.get("access-control-allow-origin")
    assert wrapped.post(url, json=BODY, headers=evil).headers.get("access-control-allow-origin")

    gated = TestClient(Gateway(reflex_like(build_api())))
    refused = gated.options(url, headers=preflight)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    refused = gated.post(url, json=BODY, headers=evil)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    created = gated.post(url, json=BODY, headers={"Origin": ALLOWED})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == ALLOWED
    assert created.headers.get("access-control-allow-credentials") is None
    assert gated.get("/api/openapi.json").status_code == 200  # everything else still Reflex's
    assert stored(session) == 1
