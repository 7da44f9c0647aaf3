"""The gateway over HTTP: origin rules per kind of route, and security headers everywhere.

The app is wrapped the way Reflex wraps it (its CORS layer, now limited to our own
origins), then by the gateway, exactly as `OrgportalApp.__call__` does.
"""

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from orgportal import db
from orgportal.api import build_api
from orgportal.api.gateway import Gateway, is_rest_path
from orgportal.api.security_headers import inline_script_hashes
from orgportal.config import settings

OWN = settings.own_origins[0]
EVIL = "http://localhost:8999"


def reflex_wrapped(app) -> Starlette:
    """What Reflex does to the API, configured as rxconfig.py configures it."""
    outer = Starlette()
    outer.mount("", app)
    outer.add_middleware(
        CORSMiddleware,
        allow_origins=settings.own_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return outer


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    return TestClient(Gateway(reflex_wrapped(build_api())))


def test_rest_paths_are_recognized_from_the_routers():
    assert is_rest_path("/api/organizations")
    assert is_rest_path("/api/organizations/12/usage")
    assert is_rest_path("/api/links/3")
    assert is_rest_path("/api/openapi.json")
    assert not is_rest_path("/api/files/3")
    assert not is_rest_path("/api/auth/session")
    assert not is_rest_path("/_upload")


def test_rest_api_is_open_to_every_origin_but_never_with_credentials(client):
    preflight = client.options(
        "/api/organizations",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers
    answer = client.get("/api/organizations", headers={"Origin": EVIL})
    assert answer.status_code == 401  # no key: the origin is not what authenticates
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/auth/logout"),
        ("get", "/api/auth/session?ticket=x"),
        ("post", "/api/auth/session"),
        ("get", "/api/files/1"),
        ("post", "/_upload"),
    ],
)
def test_cookie_routes_refuse_other_origins(client, method, path):
    refused = getattr(client, method)(path, headers={"Origin": EVIL})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    preflight = client.options(
        path, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cookie_routes_answer_their_own_origin(client):
    own = client.post("/api/auth/logout", headers={"Origin": OWN})
    assert own.status_code == 204
    assert own.headers["access-control-allow-origin"] == OWN


def test_private_routes_cannot_be_embedded_by_another_site_but_links_still_open(client):
    embed = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"}
    assert client.get("/api/files/1", headers=embed).status_code == 403
    navigate = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert client.get("/api/files/1", headers=navigate).status_code == 401  # then: sign in
    mine = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    assert client.get("/api/files/1", headers=mine).status_code == 401


@pytest.mark.parametrize("path", ["/api/files/1", "/api/organizations", "/api/public/x", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_inline_scripts_of_built_pages_are_allowed_by_hash(tmp_path):
    (tmp_path / "a.html").write_text(
        "<script>boot()</script><script src='/x.js'></script><script type=module>go()</script>"
    )
    (tmp_path / "b.html").write_text("<script>boot()</script>")
    hashes = inline_script_hashes(tmp_path)
    assert len(hashes) == 2 and all(h.startswith("'sha256-") for h in hashes)


def test_the_forwarded_scheme_counts_only_from_a_trusted_proxy(monkeypatch):
    """Behind a TLS proxy the app's own redirects keep https (README "Deploying"); a client
    that is not a proxy cannot make the app believe its scheme."""
    from ipaddress import ip_network

    from starlette.responses import PlainTextResponse

    async def scheme(scope, receive, send):
        await PlainTextResponse(scope["scheme"])(scope, receive, send)

    gateway = Gateway(scheme)
    https = {"X-Forwarded-Proto": "https"}
    from_proxy = TestClient(gateway, base_url="http://localhost", client=("10.0.0.2", 5000))
    assert from_proxy.get("/x", headers=https).text == "http"  # not trusted yet
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.0/8")])
    assert from_proxy.get("/x", headers=https).text == "https"
    assert from_proxy.get("/x", headers={"X-Forwarded-Proto": "gopher"}).text == "http"
    stranger = TestClient(gateway, base_url="http://localhost", client=("198.51.100.1", 5000))
    assert stranger.get("/x", headers=https).text == "http"
