"""Whatever organization owns the object read or written, its
Security settings (require two-factor sign-in, IP allowlist) are checked — whichever
workspace the key or the tab has active, and whichever door the call comes through (REST,
a websocket event, a download). Before the fix, a key switched to the Personal Workspace
read an organization's link figures and wrote conversions into them, and a tab in another
workspace copied an organization's image from My Files to a public logo URL."""

import asyncio
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from orgportal import db, routes
from orgportal.models import Click, Conversion
from orgportal.orgportal import app  # noqa: F401  (declares the pages and states)
from orgportal.services import clicks, files, logos
from orgportal.services.client_address import calling_from
from orgportal.services.org_security import AccessRefused
from orgportal.state.organization import OrgState
from tests.api.conftest import Team
from tests.api.test_org_security_api import (  # noqa: F401  (fixtures)
    OFFICE,
    configure,
    from_address,
    secured,
)
from tests.factories import open_session
from tests.services.test_clicks import hit, make_link
from tests.services.test_org_security import connected

pytestmark = pytest.mark.usefixtures("secret_key")  # tests/conftest.py


def org_click(session: Session, team: Team) -> tuple[int, str]:
    """A link of the organization with one recorded click: its id and the click id."""
    link = make_link(session, team.users["owner"], team.org.id, append_click_id=True)
    clicks.record(session, [hit(link)])
    session.commit()
    token = session.exec(select(Click.token).where(Click.link_id == link.id)).one()
    return link.id, token


def switch_to_personal(client: TestClient, key: dict[str, str]) -> dict[str, str]:
    """Headers with a workspace token of `key` for its user's Personal Workspace."""
    switched = client.post("/api/organizations/org_personal/switch", headers=key)
    assert switched.status_code == 200
    return {"Authorization": f"Bearer {switched.json()['token']}"}


def test_a_token_switched_to_personal_cannot_read_or_write_a_refusing_organizations_figures(
    client: TestClient,
    session: Session,
    secured: Team,  # noqa: F811
):
    link_id, click_id = org_click(session, secured)
    configure(session, secured, require=True)  # the agent has no two-factor sign-in
    key = switch_to_personal(client, secured.keys["agent"])  # leaving is never refused

    stats = client.get(f"/api/links/{link_id}/stats", headers=key)
    assert stats.status_code == 403, stats.text
    assert "requires two-factor sign-in" in stats.json()["detail"]
    written = client.post(
        "/api/conversions", headers=key, json={"click_id": click_id, "name": "signup"}
    )
    assert written.status_code == 403, written.text
    assert session.exec(select(Conversion)).all() == []  # nothing reached its figures
    # the key still works where nothing refuses it
    assert client.get("/api/links", headers=key).status_code == 200


def test_the_allowlist_holds_for_another_workspaces_key_too(
    client: TestClient,
    session: Session,
    secured: Team,  # noqa: F811
):
    link_id, click_id = org_click(session, secured)
    configure(session, secured, allowlist=OFFICE)
    office, outside = from_address(client, OFFICE), from_address(client, "198.51.100.9")
    key = switch_to_personal(outside, secured.keys["admin"])

    stats = outside.get(f"/api/links/{link_id}/stats", headers=key)
    assert stats.status_code == 403 and "198.51.100.9" in stats.json()["detail"]
    body = {"click_id": click_id, "name": "signup"}
    assert outside.post("/api/conversions", headers=key, json=body).status_code == 403
    # from the office the same calls work, with the token still in the Personal Workspace
    assert office.get(f"/api/links/{link_id}/stats", headers=key).status_code == 200
    assert office.post("/api/conversions", headers=key, json=body).status_code == 201


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def org_image(session: Session, secured: Team):  # noqa: F811
    """An image in the organization's My Files, and the organization refusing the agent."""
    stored = files.upload_file(
        session,
        user=secured.users["owner"],
        organization_id=secured.org.id,
        name="brand.png",
        data=png(),
    )
    session.commit()
    configure(session, secured, require=True)
    return stored


def test_a_logo_is_not_copied_from_a_refusing_organizations_files(
    session: Session,
    secured: Team,  # noqa: F811
    org_image,
):
    agent = secured.users["agent"]
    with calling_from(OFFICE), pytest.raises(AccessRefused):
        logos.store_from_my_files(session, user=agent, file_id=org_image.id)
    with calling_from(OFFICE), pytest.raises(AccessRefused):
        files.get_file(session, user=agent, file_id=org_image.id)
    # the owner meets the rule's allowlist (none) but not two-factor either: refused too
    with calling_from(OFFICE), pytest.raises(AccessRefused):
        logos.store_from_my_files(session, user=secured.users["owner"], file_id=org_image.id)


def test_a_crafted_pick_logo_event_from_another_workspace_is_refused_where_it_happened(
    engine,
    session: Session,
    secured: Team,  # noqa: F811
    org_image,
    monkeypatch,
):
    monkeypatch.setattr(db, "engine", lambda: engine)
    raw, _ = open_session(session, secured.users["agent"], None)  # Personal Workspace
    session.commit()
    root = connected(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_NEW)
    state = root.parent_state.get_substate(OrgState.get_full_name().split(".")[1:])
    events = asyncio.run(_call(OrgState.pick_logo.fn, state, str(org_image.id)))
    assert state.logo_draft == ""  # nothing copied to a public logo URL
    assert "requires two-factor sign-in" in str(events)  # said on the page, as a toast
    assert routes.TWO_FACTOR_REQUIRED not in str(events)  # not this workspace's gate


async def _call(handler, *args):
    result = handler(*args)
    return await result if asyncio.iscoroutine(result) else result
