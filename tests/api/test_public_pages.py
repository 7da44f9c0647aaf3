"""The plain pages answered outside Reflex: a browser following a short link that
does not exist (or waits for approval) gets a styled page with a title and `lang`, on the
app's host and on a custom domain; a program that asks for JSON gets JSON; 404 either way."""

import pytest
from fastapi.testclient import TestClient

from orgportal import db
from orgportal.api import build_api, custom_host, public_pages
from orgportal.api.gateway import Gateway
from orgportal.models import CustomDomain, DomainStatus
from tests.api.test_custom_host import the_app
from tests.factories import make_org, make_user
from tests.services.test_custom_domains import subscribe

CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
BROWSER = {"Accept": CHROME, "User-Agent": "Mozilla/5.0 Chrome/130.0"}


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (CHROME, True),
        ("text/html", True),
        ("text/html;q=0.9, application/json", False),  # JSON preferred
        ("application/json", False),
        ("application/json, text/html", True),  # as wanted: the page
        ("*/*", False),  # curl, API clients
        ("", False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
    ],
)
def test_only_clients_that_accept_html_get_the_page(accept, html):
    assert public_pages.wants_html({"accept": accept}) is html


def test_the_page_is_a_complete_accessible_document_with_escaped_text():
    page = public_pages.PublicPage(
        title="<Title>", heading="A & B", paragraphs=("<script>x</script>",), detail="d"
    )
    html = public_pages.render(page, home_link=True)
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert "<title>&lt;Title&gt; · orgportal</title>" in html
    assert "<main>" in html and "<h1>A &amp; B</h1>" in html
    assert "<script" not in html.replace("&lt;script&gt;", "")  # no script at all
    assert "style=" not in html and "<style" not in html  # the stylesheet only (CSP)
    assert f'<link rel="stylesheet" href="{public_pages.STYLESHEET_PATH}">' in html
    assert '<a class="brand" href="/">' in html
    assert "<a " not in public_pages.render(page, home_link=False)


def test_the_stylesheet_exists_and_uses_the_apps_colours():
    css = public_pages.stylesheet().decode()
    assert "#3e63dd" in css and "#202020" in css  # Radix indigo-9 and gray-12


@pytest.fixture
def api(engine, monkeypatch) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    return TestClient(build_api())


def test_an_unknown_short_link_is_a_styled_404_page_for_browsers(api):
    answer = api.get("/l/no-such-link", headers=BROWSER, follow_redirects=False)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<title>Short link not found · orgportal</title>" in answer.text
    assert '<html lang="en">' in answer.text and "This short link does not exist" in answer.text
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("accept", ["application/json", "*/*"])
def test_an_unknown_short_link_is_json_for_programs(api, accept):
    answer = api.get("/l/no-such-link", headers={"Accept": accept}, follow_redirects=False)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No such short link."}


@pytest.fixture
def custom(engine, session, monkeypatch) -> TestClient:
    """go.acme.com, verified, serving Acme's links (none here)."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    custom_host.clear_cache()
    acme = make_org(session, make_user(session, "owner@acme.example.com"), "Acme")
    subscribe(session, acme, "professional")
    session.add(
        CustomDomain(
            organization_id=acme.id, domain="go.acme.com", token="t", status=DomainStatus.VERIFIED
        )
    )
    session.commit()
    return TestClient(Gateway(the_app, host_routing=True), follow_redirects=False)


@pytest.mark.parametrize("host", ["go.acme.com", "unknown.example.com"])
def test_on_a_custom_domain_a_browser_gets_the_page_without_links_to_the_app(custom, host):
    answer = custom.get("/no-such-link", headers={**BROWSER, "Host": host})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in answer.text and "<title>Short link not found" in answer.text
    assert 'href="/"' not in answer.text  # the app is not served there
    assert "style-src 'self'" in answer.headers["content-security-policy"]


def test_on_a_custom_domain_a_program_gets_json(custom):
    answer = custom.get(
        "/no-such-link", headers={"Accept": "application/json", "Host": "go.acme.com"}
    )
    assert answer.status_code == 404 and answer.json() == {"detail": "No such short link."}


def test_on_a_custom_domain_the_pages_stylesheet_is_served(custom):
    answer = custom.get(public_pages.STYLESHEET_PATH, headers={"Host": "go.acme.com"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/css")
    assert answer.content == public_pages.stylesheet()
    assert answer.text != "the app"
