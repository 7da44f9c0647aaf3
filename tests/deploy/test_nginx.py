"""Deploying behind nginx (SPEC §18): TLS at nginx, pages and their websocket through it,
the client address nginx saw (and only that) believed through TRUSTED_PROXIES, and a
branded domain routed by its Host — with deploy/nginx.conf exactly as shipped."""

import os
import subprocess
import sys
import textwrap

import httpx
from playwright.sync_api import Page

from tests.deploy.conftest import ELSEWHERE, OFFICE
from tests.e2e.conftest import ROOT
from tests.e2e.helpers import create_organization, register, unique_email

TARGET = "https://example.com/spring-sale"


def test_pages_and_their_websocket_work_through_nginx_over_tls(page: Page, proxy):
    assert httpx.get(f"{proxy['https']}/healthz", verify=False).json() == {"status": "ok"}
    ready = httpx.get(f"{proxy['https']}/readyz", verify=False).json()
    assert ready["checks"]["database"] == ready["checks"]["redis"] == "ok"
    # registering, signing in and creating an organization are websocket events
    register(page, unique_email("proxied"))
    create_organization(page, "Behind Nginx")
    assert page.url.startswith(proxy["https"])
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert any(c["secure"] and c["httpOnly"] for c in cookies.values())  # https PUBLIC_URL
    # plain HTTP on the app's own host is sent to HTTPS
    answer = httpx.get(
        f"{proxy['http']}/login", headers={"Host": "localhost"}, follow_redirects=False
    )
    assert answer.status_code == 301 and answer.headers["location"].startswith("https://")


def client_from(address: str) -> httpx.Client:
    """A client whose connections come from `address` (a loopback alias)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address, verify=False))


def test_the_client_address_is_the_one_nginx_saw(proxy, app_url):
    """/metrics answers only OFFICE (METRICS_ALLOWED_ADDRESSES): the address the app uses."""
    metrics = f"{proxy['https']}/metrics"
    with client_from(OFFICE) as office, client_from(ELSEWHERE) as elsewhere:
        assert office.get(metrics).status_code == 200  # nginx's X-Forwarded-For, believed
        assert elsewhere.get(metrics).status_code == 403
        # a client's own header never gets through nginx (it overwrites, never appends)...
        forged = elsewhere.get(metrics, headers={"X-Forwarded-For": OFFICE})
        assert forged.status_code == 403
        # ...nor straight to the app: only TRUSTED_PROXIES' headers count
        direct = elsewhere.get(f"{app_url}/metrics", headers={"X-Forwarded-For": OFFICE})
        assert direct.status_code == 403


def test_a_branded_domain_is_routed_by_its_host(proxy, app_env):
    slug = make_branded_link(app_env)
    go = {"Host": "go.branded.test"}
    answer = httpx.get(f"{proxy['http']}/{slug}", headers=go, follow_redirects=False)
    assert answer.status_code == 302 and answer.headers["location"] == TARGET
    assert httpx.get(f"{proxy['http']}/login", headers=go).status_code == 404  # not the app
    other = {"Host": "unknown.test"}
    assert httpx.get(f"{proxy['http']}/{slug}", headers=other).status_code == 404


def make_branded_link(app_env: dict[str, str]) -> str:
    """An organization with a verified go.branded.test and a link on it, written to the
    app's database by another process (DNS verification is tested in test_custom_domains)."""
    code = textwrap.dedent(
        f"""
        from orgportal.db import unit_of_work
        from orgportal.models.base import utcnow
        from orgportal.models.custom_domain import CustomDomain, DomainStatus
        from orgportal.services import accounts, links, organizations

        with unit_of_work() as session:
            user = accounts.register(session, accounts.Registration(
                "branded@example.com", "correct horse battery", "Brand", "Owner"),
                confirmed=True)
            org = organizations.create_organization(session, user=user, name="Brand Co")
            domain = CustomDomain(organization_id=org.id, domain="go.branded.test",
                                  token="t", status=DomainStatus.VERIFIED, verified_at=utcnow())
            session.add(domain)
            session.flush()
            link = links.create_link(session, user=user, organization_id=org.id,
                                     target_url="{TARGET}", slug="spring",
                                     custom_domain_id=domain.id)
            print(link.slug)
        """
    )
    env = {**os.environ, **app_env}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]
