"""SPEC §18: object storage (a real SeaweedFS `weed mini` of the test's own, on free ports)
stops while a file is being uploaded. The person uploading reads a plain "storage is
unavailable, try again" beside the upload field (the My Files page's own handler, as the
websocket calls it), no row points at bytes that were never stored, the usage counters do not
move, a download meanwhile answers 503 with the same words, and once SeaweedFS is back on the
same ports the same upload works and the earlier file is still there.
"""

import asyncio
import concurrent.futures
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from reflex import constants
from reflex.state import State
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from orgportal import db, routes
from orgportal.adapters import storage
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.db import make_engine
from orgportal.models import OrganizationCounter, StoredFile
from orgportal.services import usage_counters
from orgportal.state.content import FilesState
from tests.factories import make_org, make_user, open_session
from tests.faults.services import SeaweedFS


def run_alone(coroutine):
    """Run `coroutine` to its end in a thread of its own: a browser test earlier in the
    session (Playwright's sync API) leaves an event loop running in this thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The test's own SQLite database (the service broken here is the object store)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seaweed() -> Iterator[SeaweedFS]:
    server = SeaweedFS().start()
    yield server
    server.destroy()


@pytest.fixture
def bucket(seaweed, engine, monkeypatch) -> Iterator[str]:
    """A fresh bucket configured as the app's storage (STORAGE_URL and friends)."""
    name = f"orgportal-{uuid.uuid4().hex[:12]}"
    seaweed.client().create_bucket(Bucket=name)
    for setting, value in {
        "storage_url": seaweed.endpoint,
        "storage_bucket": name,
        "storage_access_key_id": "test",
        "storage_secret_access_key": "test",
    }.items():
        monkeypatch.setattr(settings, setting, value)
    monkeypatch.setattr(db, "engine", lambda: engine)
    storage.reset()
    yield name
    storage.reset()


class Upload:
    """What Reflex hands the upload handler: a name and the bytes, read asynchronously."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data = name, data

    async def read(self, size: int = -1) -> bytes:
        return self.data if size < 0 else self.data[:size]


def files_page(session: Session, user, org) -> tuple[FilesState, str]:
    """The My Files page's state as the websocket of `user`'s signed-in browser sees it, and
    that browser's session cookie."""
    raw, _ = open_session(session, user, org.id)
    session.commit()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"{routes.SESSION_COOKIE}={raw}", "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: routes.FILES}, {}
    )
    return root.get_substate(FilesState.get_full_name().split(".")[1:]), raw


def keys(seaweed: SeaweedFS, bucket: str) -> set[str]:
    listed = seaweed.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def pool(session: Session, org_id: int) -> tuple[int, int]:
    session.expire_all()
    counter = session.get(OrganizationCounter, org_id)
    return (counter.links, counter.storage_bytes) if counter else (0, 0)


def test_storage_stopping_during_an_upload_is_said_plainly_and_leaves_nothing_half_done(
    session, bucket, seaweed
):
    owner = make_user(session)
    org = make_org(session, owner, "Storage Co")
    page, cookie = files_page(session, owner, org)
    first = b"minutes of the board meeting\n" * 1000
    run_alone(page.upload([Upload("minutes.txt", first)]))
    assert page.errors == {}
    [kept] = session.exec(select(StoredFile)).all()
    assert pool(session, org.id) == (0, len(first))

    # SeaweedFS stops while the next upload's bytes are on their way to it
    stopped = []

    def stop_storage(**_kwargs) -> None:
        if not stopped:
            stopped.append(True)
            seaweed.stop()

    storage.files().client.meta.events.register("before-send.s3.PutObject", stop_storage)
    started = time.monotonic()
    events = run_alone(page.upload([Upload("deck.pdf", b"%PDF-1.7 slides" * 5000)]))
    took = time.monotonic() - started
    storage.files().client.meta.events.unregister("before-send.s3.PutObject", stop_storage)
    assert stopped, "the upload reached the store"

    # what the person sees: a plain sentence beside the upload field, no exception
    message = page.errors.get("file", "")
    assert "storage is unavailable" in message.lower() and "try again" in message.lower()
    for internal in ("http", "127.0.0.1", "Error", "Traceback", "botocore", "endpoint"):
        assert internal not in message, message
    assert "success" not in str(events)
    assert took < 30, f"the upload hung for {took:.0f} s before answering"
    # nothing half-done: no row without bytes, the pool's counters unmoved and consistent
    assert session.exec(select(StoredFile)).all() == [kept]
    assert pool(session, org.id) == (0, len(first))
    assert usage_counters.check(session) == []

    # a download meanwhile: the same words, 503, not a server error
    api = TestClient(build_api())
    api.cookies.set(routes.SESSION_COOKIE, cookie)
    down = api.get(f"/api/files/{kept.id}")
    assert down.status_code == 503, down.text
    assert "storage is unavailable" in down.json()["detail"].lower()

    seaweed.start()  # back on the same ports, same data
    assert keys(seaweed, bucket) == {f"files/{kept.storage_key}"}  # no stray bytes either
    run_alone(page.upload([Upload("deck.pdf", b"%PDF-1.7 slides" * 5000)]))
    assert page.errors == {}
    stored = {f.name: f for f in session.exec(select(StoredFile)).all()}
    assert set(stored) == {"minutes.txt", "deck.pdf"}
    assert keys(seaweed, bucket) == {f"files/{f.storage_key}" for f in stored.values()}
    assert pool(session, org.id) == (0, len(first) + 15 * 5000)
    assert usage_counters.check(session) == []
    again = api.get(f"/api/files/{kept.id}")
    assert again.status_code == 200 and again.content == first
