"""Alembic builds the schema from empty, and models and migrations agree (no autogenerate diff)."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from alembic import command
from orgportal.db import make_engine
from tests.conftest import PG_URL, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[2]


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
