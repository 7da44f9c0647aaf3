"""Alembic builds the schema from empty, and models and migrations agree (no autogenerate diff)."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Boolean, Connection, DateTime, Integer, MetaData, String, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from alembic import command
from orgportal.db import make_engine
from tests.conftest import PG_URL, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]


def upgrade_and_compare(url: str) -> None:
    config = Config(ROOT / "alembic.ini")
    config.attributes["url"] = url
    command.upgrade(config, "head")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= set(SQLModel.metadata.tables)
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
            )
        assert diff == [], f"models and migrations disagree: {diff}"
        if engine.dialect.name == "sqlite":  # autogenerate does not compare this; reflection
            # drops it, so a later batch rebuild could lose it unnoticed (see 0007)
            with engine.connect() as conn:
                assert autoincrement_tables(conn) == {
                    t.name
                    for t in SQLModel.metadata.tables.values()
                    if t.dialect_options["sqlite"]["autoincrement"]
                }
        command.downgrade(config, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_sqlite_upgrade_head_matches_models(tmp_path):
    upgrade_and_compare(f"sqlite:///{tmp_path / 'migrate.db'}")


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
def test_postgresql_upgrade_head_matches_models():
    with scratch_postgres_database() as url:
        upgrade_and_compare(url)


def autoincrement_tables(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    return {name for name, sql in rows if "AUTOINCREMENT" in sql.upper()}


def insert_row(conn: Connection, meta: MetaData, table: str, ids: dict, tag: str, **values):
    """One row of any table in the schema as it is: foreign keys point at the first row of
    their table in `ids`, other required columns get a dummy value of their type."""
    row_id = meta.tables[table].autoincrement_column
    for column in meta.tables[table].columns:
        if column.name in values or column is row_id:
            continue
        if column.foreign_keys:
            values[column.name] = ids[next(iter(column.foreign_keys)).column.table.name]
        elif column.nullable or column.server_default is not None:
            continue
        elif isinstance(column.type, String):
            values[column.name] = f"{tag}-{column.name}"[: column.type.length or 100]
        elif isinstance(column.type, Integer):
            values[column.name] = 1
        elif isinstance(column.type, DateTime):
            values[column.name] = datetime.now(UTC).replace(tzinfo=None)
        elif isinstance(column.type, Boolean):
            values[column.name] = False
    result = conn.execute(meta.tables[table].insert().values(**values))
    key = result.inserted_primary_key
    return key[0] if key and len(key) == 1 else None


def row_counts(conn: Connection, tables) -> dict[str, int]:
    return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def test_sqlite_0007_keeps_every_row_and_never_reuses_ids(tmp_path):
    """SECURITY: a reused organization id inherited a deleted organization's audit trail.
    The rebuild runs with foreign keys off, so no ON DELETE CASCADE empties a child table;
    ids freed before the upgrade but still named by audit events are not handed out either."""
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = Config(ROOT / "alembic.ini")
    config.attributes["url"] = url
    command.upgrade(config, "0006")
    engine = make_engine(url)  # foreign keys on, as in the app
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            ids: dict[str, int | None] = {}
            for table in meta.sorted_tables:
                if table.name != "alembic_version":
                    ids[table.name] = insert_row(conn, meta, table.name, ids, "kept")
            highest = insert_row(conn, meta, "organization", ids, "highest")
            gone = insert_row(conn, meta, "organization", ids, "gone")
            gone_user = insert_row(conn, meta, "user", ids, "gone")
            insert_row(
                conn, meta, "audit_event", ids, "x", organization_id=gone, actor_id=gone_user
            )
            conn.execute(text("DELETE FROM organization WHERE id = :i"), {"i": gone})
            conn.execute(text('DELETE FROM "user" WHERE id = :i'), {"i": gone_user})
            tables = [t for t in meta.tables if t != "alembic_version"]
            before = row_counts(conn, tables)
        assert all(before.values()), before

        with engine.connect() as conn:  # the caller's connection gets its foreign keys back
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        config.attributes.pop("connection")

        with engine.begin() as conn:
            assert row_counts(conn, tables) == before
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert autoincrement_tables(conn) >= {"organization", "user"}
            conn.execute(text("DELETE FROM organization WHERE id = :i"), {"i": highest})
            meta = MetaData()
            meta.reflect(conn)
            assert insert_row(conn, meta, "organization", ids, "new") > gone > highest
            assert insert_row(conn, meta, "user", ids, "new") > gone_user
    finally:
        engine.dispose()


def test_0015_fills_the_usage_counters_from_the_existing_rows(tmp_path):
    """Counters start from the rows already there: the organization's pool holds its links
    and a drawing member's personal link; a member without the plan keeps their own."""
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = Config(ROOT / "alembic.ini")
    config.attributes["url"] = url
    command.upgrade(config, "0014")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            ids: dict[str, int | None] = {}
            ids["user"] = drawing = insert_row(conn, meta, "user", ids, "drawing")
            alone = insert_row(conn, meta, "user", ids, "alone")
            ids["organization"] = org = insert_row(conn, meta, "organization", ids, "org")
            other = insert_row(conn, meta, "organization", ids, "other")
            insert_row(conn, meta, "membership", ids, "m", organization_id=org, user_id=drawing)
            insert_row(conn, meta, "membership", ids, "m", organization_id=other, user_id=alone)
            insert_row(conn, meta, "subscription", ids, "sub", organization_id=org, user_id=None,
                       kind="plan", plan_key="starter", status="active")  # fmt: skip
            for n, (org_id, owner) in enumerate(
                [(org, drawing), (org, alone), (None, drawing), (None, alone), (None, alone)]
            ):
                insert_row(conn, meta, "link", ids, f"l{n}", organization_id=org_id,
                           owner_id=owner, slug=f"slug-{n}", project_id=None,
                           custom_domain_id=None, approved_by_id=None)  # fmt: skip
            insert_row(conn, meta, "stored_file", ids, "f", organization_id=None,
                       owner_id=drawing, size_bytes=700)  # fmt: skip
        command.upgrade(config, "0015")
        with engine.connect() as conn:
            organizations = conn.execute(
                text("SELECT organization_id, links, storage_bytes FROM organization_counter")
            ).all()
            personal = conn.execute(
                text("SELECT user_id, links, storage_bytes, drawn_by_id FROM personal_counter")
            ).all()
        assert sorted(organizations) == [(org, 3, 700)]
        assert sorted(personal) == [(drawing, 1, 700, org), (alone, 2, 0, None)]
    finally:
        engine.dispose()


def test_0023_gives_every_existing_organization_and_user_a_distinct_public_id(tmp_path):
    """The REST API names rows by public id (SPEC §8): the rows already there get one each,
    in the shape new rows get, and a duplicate is refused by the unique index."""
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = Config(ROOT / "alembic.ini")
    config.attributes["url"] = url
    command.upgrade(config, "0022")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            ids: dict[str, int | None] = {}
            for n in range(3):
                ids["user"] = insert_row(conn, meta, "user", ids, f"u{n}")
                ids["organization"] = insert_row(conn, meta, "organization", ids, f"o{n}")
        command.upgrade(config, "0023")
        with engine.connect() as conn:
            orgs = conn.execute(text("SELECT public_id FROM organization")).scalars().all()
            users = conn.execute(text('SELECT public_id FROM "user"')).scalars().all()
        assert len(set(orgs)) == len(set(users)) == 3
        assert all(re.fullmatch(r"org_[a-z0-9]{12}", p) for p in orgs)
        assert all(re.fullmatch(r"user_[a-z0-9]{12}", p) for p in users)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE organization SET public_id = :p"), {"p": orgs[0]})
    finally:
        engine.dispose()
