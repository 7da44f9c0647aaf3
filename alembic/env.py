"""Alembic environment: the URL comes from orgportal's settings unless a caller sets one."""

from sqlmodel import SQLModel

from alembic import context
from orgportal import models  # noqa: F401  (registers the tables)
from orgportal.config import settings
from orgportal.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.attributes.get("url") or settings.sqlalchemy_url
    connectable = config.attributes.get("connection") or make_engine(url)
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _migrate(connection)
    else:
        _migrate(connectable)


def _migrate(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:
    """Off while migrating: SQLite batch mode rebuilds a table by dropping it, which with
    foreign keys on would ON DELETE CASCADE its child tables (make_engine turns them on).
    The pragma is ignored inside a transaction, hence the commits around it."""
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


run_migrations()
