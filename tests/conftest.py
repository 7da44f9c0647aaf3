"""Database fixtures: a real SQLite file per test, and real PostgreSQL when TEST_DATABASE_URL is set."""

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from orgportal.config import Settings
from orgportal.db import make_engine
from tests.dns_server import LocalDns

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pg_url(base: str = "") -> str:
    return Settings(database_url=base or PG_URL).sqlalchemy_url


@contextmanager
def scratch_postgres_database(base: str = "") -> Iterator[str]:
    """A brand-new empty PostgreSQL database on the server of `base` (default
    TEST_DATABASE_URL), dropped afterwards."""
    url = make_url(pg_url(base))
    name = f"orgportal_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def no_watching_tabs_left_over() -> Iterator[None]:
    """Each test starts with no watching tab registered in this process (`state/live.py`):
    a tab one test registered is not counted by the next."""
    yield
    if "orgportal.state.live" in sys.modules:
        sys.modules["orgportal.state.live"].forget_all()


@pytest.fixture(autouse=True)
def clicks_recorded_inline(monkeypatch) -> None:
    """A short link followed in a test records its click in the redirect's own transaction,
    so no background writer (CLICK_RECORDING=queued, the app's default) outlives the test's
    database; tests of the queue set it themselves."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "click_recording", "inline")


@pytest.fixture(autouse=True)
def private_data_dir(monkeypatch, tmp_path) -> Iterator[None]:
    """Each test stores uploaded bytes in its own DATA_DIR (local disk, the default store),
    never in the project's var/data; a test of object storage sets STORAGE_URL itself."""
    from orgportal.adapters import storage
    from orgportal.config import settings

    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    monkeypatch.setattr(settings, "storage_url", "")
    storage.reset()
    yield
    storage.reset()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    with scratch_postgres_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def secret_key(monkeypatch) -> Iterator[str]:
    """SECRET_KEY set for one test (two-factor secrets are sealed with a key derived from it),
    the derived key forgotten before and after."""
    from orgportal.config import settings
    from orgportal.services import secret_box

    monkeypatch.setattr(settings, "secret_key", "test secret key")
    secret_box._master_key.cache_clear()
    yield settings.secret_key
    secret_box._master_key.cache_clear()


@pytest.fixture(scope="module")
def local_dns() -> Iterator[LocalDns]:
    """A real DNS server on 127.0.0.1 (dnslib) for custom-domain verification (SPEC §15)."""
    server = LocalDns().start()
    yield server
    server.stop()


@pytest.fixture
def dns(local_dns, monkeypatch) -> Iterator[LocalDns]:
    """`local_dns`, emptied, as the app's resolver (DNS_RESOLVER) for one test."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "dns_resolver", local_dns.address)
    local_dns.clear()
    yield local_dns
    local_dns.clear()
