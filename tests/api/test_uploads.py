"""POST /_upload behind the gateway: authenticated before any byte is read, capped while
streaming. The app behind the gate parses the multipart body the way Reflex's upload
endpoint does (Starlette's form parser), and remembers how much it took in."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgportal import db, routes
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.models import Role, StoredFile
from orgportal.services import accounts, files, usage_counters
from orgportal.services.accounts import Viewer
from tests.factories import add_member, make_org, make_user, open_session

HANDLER = "state.files_state.upload"
HEADERS = {"Reflex-Event-Handler": HANDLER, "Reflex-Client-Token": "anything"}
CHUNK = 64 * 1024


class ReflexLikeUpload:
    """Stands in for Reflex's `/_upload`: parses the whole form, then would run the handler."""

    def __init__(self) -> None:
        self.bytes_read = 0
        self.handled = 0

    async def endpoint(self, request: Request) -> Response:
        try:
            async for chunk in request.stream():
                self.bytes_read += len(chunk)
        except ClientDisconnect:
            return Response()
        self.handled += 1
        return JSONResponse({"ok": True})


@pytest.fixture
def upload_app():
    return ReflexLikeUpload()


@pytest.fixture
def client(engine, monkeypatch, upload_app) -> TestClient:
    monkeypatch.setattr(db, "engine", lambda: engine)
    inner = Starlette(routes=[Route("/_upload", upload_app.endpoint, methods=["POST"])])

    def allowance(session: Session, viewer: Viewer) -> int:
        return files.upload_allowance(
            session, user=viewer.user, organization_id=viewer.session.active_org_id
        )

    return TestClient(Gateway(inner, upload_limits={HANDLER: allowance}))


def signed_in(session: Session, user, organization_id=None) -> dict[str, str]:
    raw, row = open_session(session, user)
    row.active_org_id = organization_id
    session.add(row)
    session.commit()
    return {"Cookie": f"{routes.SESSION_COOKIE}={raw}"}


def body(size: int):
    """A streamed body without Content-Length, as a client that lies about nothing would send."""
    sent = 0
    while sent < size:
        part = min(CHUNK, size - sent)
        sent += part
        yield b"x" * part


def test_anonymous_uploads_are_refused_before_the_body_is_read(client, upload_app):
    response = client.post("/_upload", headers=HEADERS, content=body(20 * 1024 * 1024))
    assert response.status_code == 401
    assert upload_app.bytes_read == 0 and upload_app.handled == 0


def test_a_revoked_session_is_refused_too(client, upload_app, session):
    cookie = signed_in(session, make_user(session))
    accounts.sign_out(session, cookie["Cookie"].split("=", 1)[1])
    session.commit()
    response = client.post("/_upload", headers={**HEADERS, **cookie}, content=b"x")
    assert response.status_code == 401 and upload_app.handled == 0


def test_unknown_upload_handlers_are_refused(client, upload_app, session):
    cookie = signed_in(session, make_user(session))
    headers = {**HEADERS, **cookie, "Reflex-Event-Handler": "state.something_else"}
    assert client.post("/_upload", headers=headers, content=b"x").status_code == 404
    assert upload_app.bytes_read == 0


def test_a_viewer_may_not_upload_into_the_organization(client, upload_app, session):
    org = make_org(session, make_user(session))
    viewer = add_member(session, org, Role.VIEWER)
    cookie = signed_in(session, viewer, org.id)
    response = client.post("/_upload", headers={**HEADERS, **cookie}, content=b"x")
    assert response.status_code == 403 and upload_app.bytes_read == 0


def test_a_declared_oversized_body_is_refused_at_once(client, upload_app, session, monkeypatch):
    monkeypatch.setattr(settings, "max_file_bytes", 1024 * 1024)
    cookie = signed_in(session, make_user(session))
    headers = {**HEADERS, **cookie, "Content-Length": str(5 * 1024 * 1024)}
    response = client.post("/_upload", headers=headers, content=b"x" * (5 * 1024 * 1024))
    assert response.status_code == 413
    assert "1 MB allowed" in response.json()["detail"]
    assert upload_app.bytes_read == 0


def test_a_streamed_oversized_body_is_cut_off(client, upload_app, session, monkeypatch):
    monkeypatch.setattr(settings, "max_file_bytes", 1024 * 1024)
    cookie = signed_in(session, make_user(session))
    response = client.post(
        "/_upload", headers={**HEADERS, **cookie}, content=body(50 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert upload_app.handled == 0
    assert upload_app.bytes_read <= 1024 * 1024 + 64 * 1024 + CHUNK


def test_the_pools_free_storage_caps_an_upload(client, upload_app, session):
    user = make_user(session)  # Free plan: 100 MB, of which 512 KB are still free
    used = 100 * 1024 * 1024 - 512 * 1024
    session.add(
        StoredFile(
            owner_id=user.id,
            name="big.bin",
            size_bytes=used,
            storage_key="k",
            content_type="application/octet-stream",
        )
    )
    session.flush()
    usage_counters.count_item(session, organization_id=None, owner_id=user.id, storage_bytes=used)
    session.commit()
    cookie = signed_in(session, user)
    response = client.post("/_upload", headers={**HEADERS, **cookie}, content=body(2 * 1024 * 1024))
    assert response.status_code == 413 and "512 KB allowed" in response.json()["detail"]


def test_an_upload_within_the_limit_reaches_the_handler(client, upload_app, session):
    cookie = signed_in(session, make_user(session))
    response = client.post("/_upload", headers={**HEADERS, **cookie}, content=body(300 * 1024))
    assert response.status_code == 200 and upload_app.handled == 1
    assert upload_app.bytes_read == 300 * 1024
