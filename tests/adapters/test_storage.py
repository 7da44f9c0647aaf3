"""My Files and logos on an S3-compatible object store (SeaweedFS, a real server started by
tests/object_storage.py): stored, streamed back through the session-checked route, removed
after the commit, and readable from another worker that has no local copy."""

import os
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from orgportal import db, routes
from orgportal.adapters import storage
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.services import files, logos, organizations
from orgportal.services.errors import NotFound
from tests.factories import make_org, make_user, open_session
from tests.object_storage import client, seaweedfs
from tests.processes import free_port, listening, start, stop
from tests.services.test_organizations import delete_org

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def s3_endpoint():
    with seaweedfs() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint, monkeypatch, engine):
    """A fresh bucket, configured as the app's storage (STORAGE_URL and friends)."""
    name = f"orgportal-{uuid.uuid4().hex[:12]}"
    client(s3_endpoint).create_bucket(Bucket=name)
    for setting, value in {
        "storage_url": s3_endpoint,
        "storage_bucket": name,
        "storage_access_key_id": "test",
        "storage_secret_access_key": "test",
    }.items():
        monkeypatch.setattr(settings, setting, value)
    monkeypatch.setattr(db, "engine", lambda: engine)
    storage.reset()
    return name


def keys(endpoint: str, bucket: str) -> set[str]:
    listed = client(endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def png() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def test_my_files_live_in_the_bucket_and_stream_back(session, engine, bucket, s3_endpoint):
    owner, stranger = make_user(session), make_user(session)
    org = make_org(session, owner, "Bucket Co")
    data = os.urandom(300_000)  # several chunks
    stored = files.upload_file(
        session, user=owner, organization_id=org.id, name="deck.pdf", data=data
    )
    raw, _ = open_session(session, owner, org.id)
    theirs, _ = open_session(session, stranger)
    session.commit()
    assert keys(s3_endpoint, bucket) == {f"files/{stored.storage_key}"}
    assert not settings.files_dir.exists()  # nothing on this machine's disk

    api = TestClient(build_api())
    api.cookies.set(routes.SESSION_COOKIE, raw)
    download = api.get(f"/api/files/{stored.id}")
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-length"] == str(len(data))
    assert "deck.pdf" in download.headers["content-disposition"]
    api.cookies.set(routes.SESSION_COOKIE, theirs)
    assert api.get(f"/api/files/{stored.id}").json() == {"detail": "File not found."}

    with db.unit_of_work(engine) as work:
        files.delete_file(
            work, user=work.merge(owner), organization_id=org.id, file_id=stored.id
        )
    assert keys(s3_endpoint, bucket) == set()  # removed once the delete committed


def test_logos_and_a_deleted_organizations_bytes(session, engine, bucket, s3_endpoint):
    owner = make_user(session)
    logo = logos.store_upload(png())
    name = logo.removeprefix(logos.URL_PREFIX)
    org = organizations.create_organization(session, user=owner, name="Logo Co", logo_url=logo)
    stored = files.upload_file(session, user=owner, organization_id=org.id, name="a.txt", data=b"a")
    session.commit()
    assert keys(s3_endpoint, bucket) == {f"logos/{name}", f"files/{stored.storage_key}"}
    served = TestClient(build_api()).get(logo)
    assert served.status_code == 200 and served.content == png()
    assert served.headers["content-type"] == "image/png"
    assert TestClient(build_api()).get("/api/logos/AAAAAAAAAAAAAAAAAAAAAA.png").status_code == 404

    with db.unit_of_work(engine) as work:
        delete_org(work, work.merge(owner), org)
    assert keys(s3_endpoint, bucket) == set()
    with pytest.raises(NotFound):
        files.get_file(session, user=owner, file_id=stored.id)


def test_a_file_uploaded_through_one_worker_downloads_through_another(
    session, engine, bucket, s3_endpoint, tmp_path
):
    """The other worker is a separate process with its own (empty) DATA_DIR: the bytes can
    only come from the shared bucket."""
    owner = make_user(session)
    org = make_org(session, owner, "Two Workers")
    stored = files.upload_file(
        session, user=owner, organization_id=org.id, name="shared.txt", data=b"shared bytes"
    )
    raw, _ = open_session(session, owner, org.id)
    session.commit()

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path / "other-worker"),
        "STORAGE_URL": s3_endpoint,
        "STORAGE_BUCKET": bucket,
        "STORAGE_ACCESS_KEY_ID": "test",
        "STORAGE_SECRET_ACCESS_KEY": "test",
        "PUBLIC_URL": f"http://localhost:{port}",
    }
    other = start(
        [sys.executable, "-m", "uvicorn", "--factory", "orgportal.api:build_api"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        ready=listening(port),
        timeout=30,
        what="the other worker",
    )
    try:
        url = f"http://127.0.0.1:{port}/api/files/{stored.id}"
        response = httpx.get(url, cookies={routes.SESSION_COOKIE: raw}, timeout=5)
        assert response.status_code == 200 and response.content == b"shared bytes"
        assert not (tmp_path / "other-worker" / "files").exists()
    finally:
        stop(other)
