"""Serving by Host (SPEC §15): a verified custom domain serves only its organization's short
links; the app (pages, API, websocket) is never served there; unknown hosts get 404.

The gateway wraps a stand-in app that answers "the app" to everything, so a test can see
whether a request reached it.
"""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from orgportal import db
from orgportal.api import custom_host
from orgportal.api.gateway import Gateway
from orgportal.models import Click, CustomDomain, DomainStatus, Link, User
from orgportal.services import custom_domains, links
from tests.factories import make_org, make_user
from tests.services.test_custom_domains import subscribe


async def the_app(scope, receive, send) -> None:
    """Stands in for Reflex + the API: answers 200 "the app", accepts websockets."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "the app"})
        await send({"type": "websocket.close", "code": 1000})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"the app"})


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    custom_host.clear_cache()
    return TestClient(Gateway(the_app, host_routing=True), follow_redirects=False)


@pytest.fixture
def world(session):
    """Acme with verified go.acme.com and pending new.acme.com; Other with its own link."""
    owner = make_user(session, "owner@acme.example.com")
    acme = make_org(session, owner, "Acme")
    subscribe(session, acme, "professional")
    other = make_org(session, make_user(session, "other@example.com"), "Other")
    session.add(
        CustomDomain(
            organization_id=acme.id, domain="go.acme.com", token="t", status=DomainStatus.VERIFIED
        )
    )
    session.add(CustomDomain(organization_id=acme.id, domain="new.acme.com", token="u"))
    session.add(
        Link(
            organization_id=acme.id,
            owner_id=owner.id,
            slug="sale",
            target_url="https://acme.example.com/sale",
        )
    )
    session.add(
        Link(
            organization_id=other.id,
            owner_id=owner.id,
            slug="theirs",
            target_url="https://other.example.com/",
        )
    )
    session.add(
        Link(
            organization_id=None,
            owner_id=owner.id,
            slug="mine",
            target_url="https://me.example.com/",
        )
    )
    session.commit()
    return acme


def on(host: str) -> dict[str, str]:
    return {"Host": host}


def test_a_verified_domain_redirects_its_organizations_slug(client, world):
    answer = client.get("/sale", headers=on("go.acme.com"))
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://acme.example.com/sale"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "orgportal_browser" not in answer.headers.get("set-cookie", "")
    assert client.get("/sale", headers=on("GO.Acme.com:443")).status_code == 302


def test_the_click_is_recorded(client, world, session):
    client.get("/sale", headers=on("go.acme.com"))
    assert len(session.exec(Click.__table__.select()).all()) == 1


@pytest.mark.parametrize("slug", ["theirs", "mine", "nothing-here"])
def test_other_organizations_and_personal_links_are_404_there(client, world, slug):
    answer = client.get(f"/{slug}", headers=on("go.acme.com"))
    assert answer.status_code == 404 and answer.text != "the app"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/organization",
        "/links",
        "/l/sale",
        "/api/organizations",
        "/api/openapi.json",
        "/api/auth/session",
        "/_event",
        "/_upload",
        "/ping",
        "/sale/extra",
    ],
)
def test_the_app_is_never_served_on_a_custom_domain(client, world, path):
    answer = client.get(path, headers=on("go.acme.com"))
    assert answer.status_code == 404 and answer.text != "the app"


def test_only_get_and_head_redirect(client, world):
    assert client.post("/sale", headers=on("go.acme.com")).status_code == 404
    assert client.head("/sale", headers=on("go.acme.com")).status_code == 302


def test_the_websocket_is_never_served_on_a_custom_domain(client, world):
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/_event", headers=on("go.acme.com")) as ws,
    ):
        ws.receive_text()
    assert closed.value.code == 1008


@pytest.mark.parametrize("host", ["new.acme.com", "unknown.example.com", "evil.test"])
def test_unverified_and_unknown_hosts_serve_nothing(client, world, host):
    for path in ("/sale", "/", "/organization", "/api/organizations"):
        answer = client.get(path, headers=on(host))
        assert answer.status_code == 404 and answer.text != "the app"


@pytest.mark.parametrize("host", ["localhost", "localhost:3000", "127.0.0.1:3000", "[::1]:3000"])
def test_the_apps_own_hosts_are_served_as_before(client, world, host):
    for path in ("/", "/organization", "/no-such-link"):
        assert client.get(path, headers=on(host)).text == "the app"
    # a short link of the app's own host: the gateway redirects, as `RootShortLinks` would
    assert client.get("/sale", headers=on(host)).headers["location"] == (
        "https://acme.example.com/sale"
    )
    with client.websocket_connect("/_event", headers=on(host)) as ws:
        assert ws.receive_text() == "the app"


def test_without_host_routing_the_gateway_is_unchanged(engine, monkeypatch, world):
    monkeypatch.setattr(db, "engine", lambda: engine)
    plain = TestClient(Gateway(the_app))  # what tests with Host: testserver use
    assert plain.get("/sale", headers=on("go.acme.com")).text == "the app"


def test_a_removed_domain_stops_serving_at_once(client, world, session):
    assert client.get("/sale", headers=on("go.acme.com")).status_code == 302
    row = session.exec(
        CustomDomain.__table__.select().where(CustomDomain.domain == "go.acme.com")
    ).one()
    owner = session.exec(Link.__table__.select().where(Link.slug == "sale")).one().owner_id
    with db.unit_of_work() as work:
        custom_domains.remove_domain(
            work, user=work.get(User, owner), organization_id=world.id, domain_id=row.id
        )
    assert client.get("/sale", headers=on("go.acme.com")).status_code == 404


def test_links_pending_approval_are_not_served(client, world, session):
    link = links.redirect_link(session, "sale")
    link.pending_approval = True
    session.add(link)
    session.commit()
    assert client.get("/sale", headers=on("go.acme.com")).status_code == 404
