"""`POST /api/auth/session`: the page itself redeems its sign-in ticket, with every
property of the ticket link: only this browser's nonce redeems it, once; the cookie is
HttpOnly; another origin is refused before the route runs."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal import db, routes
from orgportal.api import build_api
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.models import UserSession
from orgportal.services import accounts
from tests.api.test_gateway import EVIL, OWN, reflex_wrapped
from tests.factories import BROWSER, make_user


def client_of(engine, monkeypatch, nonce: str | None) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    client = TestClient(Gateway(reflex_wrapped(build_api())), base_url=OWN)
    if nonce is not None:
        client.cookies.set(settings.browser_cookie, nonce)
    return client


def ticket_for(session: Session) -> str:
    user = make_user(session)
    ticket = accounts.issue_sign_in_ticket(session, user, browser=BROWSER)
    session.commit()
    return ticket


def post(client: TestClient, ticket: str, origin: str = OWN):
    return client.post("/api/auth/session", data={"ticket": ticket}, headers={"Origin": origin})


def test_the_page_redeems_its_ticket_for_an_http_only_cookie(engine, session, monkeypatch):
    ticket = ticket_for(session)
    answer = post(client_of(engine, monkeypatch, BROWSER), ticket)
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{routes.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    raw = cookie.split(";", 1)[0].split("=", 1)[1]
    assert accounts.authenticate(session, raw).user.email.endswith("@example.com")


def test_a_ticket_works_once(engine, session, monkeypatch):
    ticket = ticket_for(session)
    client = client_of(engine, monkeypatch, BROWSER)
    assert post(client, ticket).status_code == 204
    again = post(client, ticket)
    assert again.status_code == 400 and "set-cookie" not in again.headers
    assert again.json()["detail"] == accounts.SIGN_IN_LINK_FAILED


def test_another_browser_cannot_redeem_it(engine, session, monkeypatch):
    """Login CSRF: the ticket is bound to the nonce of the browser that signed in."""
    ticket = ticket_for(session)
    for nonce in ("the-victims-nonce", None):
        refused = post(client_of(engine, monkeypatch, nonce), ticket)
        assert refused.status_code == 400 and "set-cookie" not in refused.headers
    assert session.exec(select(UserSession)).all() == []
    # still good in its own browser: a refusal elsewhere does not use it up
    assert post(client_of(engine, monkeypatch, BROWSER), ticket).status_code == 204


def test_another_origin_is_refused_before_the_route_runs(engine, session, monkeypatch):
    ticket = ticket_for(session)
    refused = post(client_of(engine, monkeypatch, BROWSER), ticket, origin=EVIL)
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert "access-control-allow-origin" not in refused.headers
    assert post(client_of(engine, monkeypatch, BROWSER), ticket).status_code == 204


def test_no_ticket_is_a_refusal(engine, monkeypatch):
    client = client_of(engine, monkeypatch, BROWSER)
    answer = client.post("/api/auth/session", headers={"Origin": OWN})
    assert answer.status_code == 400 and "set-cookie" not in answer.headers


def test_the_page_changes_client_side_only_to_its_own_pages():
    """After a sign-in the page changes client-side to a page of the app; a download, the API
    or a short link needs a real page load (`state/session_cookie.py`)."""
    from orgportal.state.session_cookie import is_page, script

    for page in ("/", "/organization", "/organization/audit", "/support/invite/t?accept=1"):
        assert is_page(page), page
    for other in ("/api/files/3", "/l/sale", "/sale", "/_upload/x"):
        assert not is_page(other), other
    code = script('tick"et', "/api/files/3")
    assert '"tick\\"et", "/api/files/3", "/login?next=%2Fapi%2Ffiles%2F3&retry=1", false' in code
