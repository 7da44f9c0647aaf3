"""Database fixtures: a real SQLite file per test, and real PostgreSQL when TEST_DATABASE_URL is set."""

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """argon2id at its smallest cost (1 MiB, 1 pass) for users made in this process: the
    suite makes thousands, and at the app's cost (`security.PASSWORD_HASHER`, about 0.1 s
    each) that alone took minutes. The scheme and code path are the same; the apps the
    browser tests start hash at the real cost, and tests/test_password_hashing.py checks it."""
    from orgportal import security

    quick = security.argon2.using(type="ID", memory_cost=1024, rounds=1, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "PASSWORD_HASHER", quick)
        patch.setattr(security, "_DUMMY_HASH", quick.hash("not anyone's password"))
        yield


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty SQLite database with every table, made once: each test gets a copy of the
    file (a few ms) instead of creating the fifty-odd tables again (about 0.1 s)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        database = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        engine = make_engine(f"sqlite:///{database}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    empty_postgres_tables(engine)
    yield engine


def empty_postgres_tables(engine: Engine) -> None:
    """Every table emptied and every id sequence back at 1, as `TRUNCATE … RESTART
    IDENTITY` would, in about 10 ms instead of half a second (TRUNCATE of fifty tables
    rewrites each one's files). Foreign-key triggers are off for this transaction only
    (`session_replication_role`, the test server's superuser), so the order of the
    deletes does not matter; every table ends empty, so nothing dangles."""
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(deletes)
        sequences = conn.exec_driver_sql(
            "SELECT schemaname || '.' || sequencename FROM pg_sequences"
        ).scalars().all()
        if sequences:
            conn.exec_driver_sql(
                "SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences)
            )


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
