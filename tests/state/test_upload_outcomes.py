"""Several files chosen together are stored or refused each on its own,
and My Files lists each one's outcome with the reason in our words, including a refusal of
the whole upload by the gate (`api/uploads.py`, which calls `_upload_refused`)."""

import asyncio
import io
from pathlib import Path

import pytest
import reflex as rx
from reflex import constants
from reflex.state import State
from sqlmodel import Session, select

from orgportal import db, routes
from orgportal.config import settings
from orgportal.models import Role, StoredFile
from orgportal.services import files, usage, usage_counters
from orgportal.services.errors import PermissionDenied
from orgportal.state.content import NOT_UPLOADED, UPLOADED, UPLOADING, FilesState, UploadRow
from tests.factories import add_member, make_org, make_user, open_session
from tests.processes import free_port


@pytest.fixture(autouse=True)
def app_database(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)


def stored_names(session: Session) -> list[str]:
    session.expire_all()
    return sorted(f.name for f in session.exec(select(StoredFile)))


def test_each_file_is_stored_or_refused_on_its_own(session: Session, monkeypatch):
    monkeypatch.setattr(settings, "max_file_bytes", 10)
    owner = make_user(session)
    org = make_org(session, owner)
    outcomes = files.upload_each(
        session,
        user=owner,
        organization_id=org.id,
        uploads=[("a.txt", b"hello"), ("empty.txt", b""), ("big.bin", b"x" * 11), ("", b"x")],
    )
    session.commit()
    assert [(o.name, bool(o.stored), o.refusal) for o in outcomes] == [
        ("a.txt", True, ""),
        ("empty.txt", False, "empty.txt is empty."),
        ("big.bin", False, "big.bin is larger than 10 B."),
        ("A file without a name", False, "The file needs a name."),
    ]
    assert stored_names(session) == ["a.txt"]
    pool = usage.pool_for(session, user=owner, organization_id=org.id)
    assert usage.pool_usage(session, pool).storage_bytes == 5  # only what was stored


def test_past_the_storage_limit_the_rest_is_refused_and_the_first_kept(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    limit = usage.pool_for(session, user=owner, organization_id=org.id).plan.storage_bytes
    filler = files.upload_file(
        session, user=owner, organization_id=org.id, name="filler.bin", data=b"x" * 10
    )
    assert filler.size_bytes == 10
    # the pool's counter as if other files filled it up to 6 bytes short of the limit
    usage_counters.count_item(
        session, organization_id=org.id, owner_id=owner.id, storage_bytes=limit - 16
    )
    session.commit()
    outcomes = files.upload_each(
        session,
        user=owner,
        organization_id=org.id,
        uploads=[("fits.txt", b"123456"), ("over.txt", b"1")],
    )
    session.commit()
    assert outcomes[0].stored is not None
    assert outcomes[1].stored is None
    assert outcomes[1].refusal.startswith("Storage limit reached: the Free plan allows")
    assert stored_names(session) == ["filler.bin", "fits.txt"]


def test_a_viewer_is_refused_before_any_file(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        files.upload_each(
            session, user=viewer, organization_id=org.id, uploads=[("a.txt", b"hello")]
        )
    assert stored_names(session) == []


# --- the My Files page's state -------------------------------------------------------------


def files_page(session: Session, user, org) -> FilesState:
    """My Files' state as the websocket of `user`'s signed-in browser sees it."""
    raw, _ = open_session(session, user, org.id)
    session.commit()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"{routes.SESSION_COOKIE}={raw}", "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: routes.FILES}, {}
    )
    state = root.get_substate(FilesState.get_full_name().split(".")[1:])
    state._refresh()
    return state


def upload(name: str, data: bytes) -> rx.UploadFile:
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data))


def test_the_page_lists_each_files_outcome(session: Session, monkeypatch):
    monkeypatch.setattr(settings, "max_file_bytes", 10)
    owner = make_user(session)
    org = make_org(session, owner)
    state = files_page(session, owner, org)
    assert state.allowance == 10 and state.upload_hint == "Up to 10 B per upload now."

    state.choose([{"name": "notes.txt", "size": 2}, {"name": "empty.txt", "size": 0}])
    state.refuse_chosen([{"name": "huge.iso", "size": 99, "codes": ["file-too-large"]}])
    assert [(r.name, r.status) for r in state.outcomes] == [
        ("notes.txt", UPLOADING),
        ("empty.txt", UPLOADING),
        ("huge.iso", NOT_UPLOADED),
    ]
    assert state.outcomes[2].reason == "Larger than the 10 B allowed now."
    assert state.uploading

    asyncio.run(state.upload([upload("notes.txt", b"hi"), upload("empty.txt", b"")]))
    assert state.outcomes == [
        UploadRow("notes.txt", UPLOADED),
        UploadRow("empty.txt", NOT_UPLOADED, "empty.txt is empty."),
        UploadRow("huge.iso", NOT_UPLOADED, "Larger than the 10 B allowed now."),
    ]
    assert not state.uploading and state.errors == {}
    assert [row.name for row in state.rows] == ["notes.txt"]
    assert state.allowance == 10  # the per-file cap; the pool has room


def test_a_refusal_by_the_gate_marks_the_waiting_files(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    state = files_page(session, owner, org)
    state.choose([{"name": "a.bin", "size": 9}, {"name": "b.bin", "size": 9}])
    state.upload_progress({"loaded": 5, "total": 10, "progress": 0.5})
    assert state.progress == 50

    state._upload_refused("This upload is larger than the 6.5 MB allowed now.")
    assert [(r.name, r.status, r.reason) for r in state.outcomes] == [
        ("a.bin", NOT_UPLOADED, "This upload is larger than the 6.5 MB allowed now."),
        ("b.bin", NOT_UPLOADED, "This upload is larger than the 6.5 MB allowed now."),
    ]
    assert not state.uploading and state.errors == {}  # said once, beside each file


def test_an_outcome_that_comes_before_its_files_are_listed_is_kept_for_them(
    session: Session,
):
    """The upload (an HTTP request) and `choose` (the websocket) race: either may come first."""
    owner = make_user(session)
    org = make_org(session, owner)
    state = files_page(session, owner, org)
    refusal = "This upload is larger than the 6.5 MB allowed now."
    state._upload_refused(refusal)  # the gate answered before the page listed the files
    assert state.errors == {"file": refusal}  # beside the control meanwhile
    state.choose([{"name": "a.bin", "size": 9}, {"name": "b.bin", "size": 9}])
    assert [(r.name, r.status, r.reason) for r in state.outcomes] == [
        ("a.bin", NOT_UPLOADED, refusal),
        ("b.bin", NOT_UPLOADED, refusal),
    ]
    assert state.errors == {} and not state.uploading

    asyncio.run(state.upload([upload("fast.txt", b"quick")]))  # stored before `choose`
    assert [(r.name, r.status) for r in state.outcomes][0] == ("fast.txt", UPLOADED)
    state.choose([{"name": "fast.txt", "size": 5}])
    assert state.outcomes == [UploadRow("fast.txt", UPLOADED)]
    assert not state.uploading

    state.choose([{"name": "next.txt", "size": 5}])  # a new drop: nothing early is left
    assert state.outcomes == [UploadRow("next.txt", UPLOADING)]


def test_a_database_outage_during_the_upload_is_said_beside_each_file(
    session: Session, monkeypatch
):
    """The database went away mid-upload (here: a PostgreSQL server that refuses the
    connection): each waiting file says so and that trying again works, and the handler
    ends normally (its HTTP answer streams)."""
    owner = make_user(session)
    org = make_org(session, owner)
    state = files_page(session, owner, org)
    state.choose([{"name": "a.txt", "size": 5}, {"name": "b.txt", "size": 5}])

    gone = db.make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    monkeypatch.setattr(db, "engine", lambda: gone)
    assert asyncio.run(state.upload([upload("a.txt", b"hello"), upload("b.txt", b"world")])) is None
    assert [(r.name, r.status, r.reason) for r in state.outcomes] == [
        ("a.txt", NOT_UPLOADED, db.UNAVAILABLE_MESSAGE),
        ("b.txt", NOT_UPLOADED, db.UNAVAILABLE_MESSAGE),
    ]
    assert not state.uploading
    assert stored_names(session) == []
