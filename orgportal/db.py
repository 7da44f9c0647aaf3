"""Engine and unit-of-work: one transaction per use case, committed here, not in services."""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, create_engine

from orgportal import models  # noqa: F401  (registers the tables)
from orgportal.adapters import metrics, worker_cache
from orgportal.adapters.live import Change, bus
from orgportal.config import settings

LIVE_CHANGES = "live_changes"
TRACKED = "rows_tracked"  # set on unit_of_work sessions: their written rows are announced
# Row-level topics (no page follows them): any row of an organization (or of a user's
# Personal Workspace) written in a unit of work. The REST read caches are tagged with them,
# so a change made by any service, present or future, drops them without its own `mark_…`.
ORG_ROWS, PERSONAL_ROWS, BULK_ROWS = "org_rows", "personal_rows", "bulk_rows"
REMOVE_AFTER_COMMIT = "remove_after_commit"
log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets a busy timeout and foreign keys switched on.

    PostgreSQL (SPEC §18): `pool_pre_ping` tests each pooled connection as it is checked
    out, so after a restart or failover the next use case reconnects instead of failing on a
    connection the server closed; `connect_timeout` bounds a connect to a server that does
    not answer. A use case caught mid-transaction fails as a whole (the transaction is rolled
    back by the server), and callers answer it as `database_unavailable`."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != url:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_write_before_savepoint)
        return engine
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


# What a person is told when their use case met `database_unavailable` (pages and the API).
UNAVAILABLE_MESSAGE = "The database is unavailable for a moment. Nothing was changed: try again."


def database_unavailable(exc: BaseException) -> bool:
    """Is `exc` (or what caused it) the database being unreachable or going away mid-use (a
    restart, a failover, the server down), rather than a bug? Such a use case changed
    nothing (its transaction never committed) and can simply be tried again."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OperationalError, InterfaceError)):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_write_before_savepoint(connection: Connection, _name: str | None) -> None:
    """A savepoint that would open SQLite's transaction opens it as a writer (BEGIN
    IMMEDIATE, waiting its turn under the busy timeout) instead.

    The sqlite3 driver starts a transaction only before a write, so the reads of a unit of
    work run on their own; but `SAVEPOINT` outside a transaction starts a deferred one, whose
    first read fixes a snapshot. Its first write then fails at once with "database is
    locked" (no busy wait) whenever another connection committed in between: an upload to
    /files failed that way while a background worker wrote. Savepoints are only taken
    around writes (`begin_nested`), so taking the write lock first costs nothing else."""
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


@cache
def engine() -> Engine:
    return make_engine(settings.sqlalchemy_url)


# the outbox figures of /metrics read this database (late-bound: tests point `engine` elsewhere)
metrics.watch_outbox(lambda: engine())


@contextmanager
def unit_of_work(
    bind: Engine | None = None, announce: Callable[[set[Change]], object] | None = None
) -> Iterator[Session]:
    """A session whose work is committed when the block ends and rolled back on error.

    Services note what they changed for live pages (`mark_changed`); only after the commit
    is that announced on the live bus, so no page is refreshed before the data is there.
    This worker's caches forget what the change made wrong before anything else happens
    (other workers' caches when the announcement reaches them). `announce`: given the
    changes instead (a process that hears no bus, the click writer, hands them to its
    worker to announce).
    """
    with Session(bind or engine(), expire_on_commit=False) as session:
        session.info[TRACKED] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        changed = session.info.pop(LIVE_CHANGES, None)
        if changed:
            (announce or announce_changes)(changed)


def announce_changes(changes: set[Change]) -> None:
    """Committed `changes`: this worker's caches forget them, then the live bus says so."""
    worker_cache.drop_local(changes)
    bus().publish(changes)


def mark_changed(session: Session, topic: str, organization_ids: Iterable[int | None]) -> None:
    """Note that open pages showing `topic` for these organizations need a refresh."""
    session.info.setdefault(LIVE_CHANGES, set()).update((topic, i) for i in organization_ids if i)


def mark_usage_changed(session: Session, organization_ids: Iterable[int | None]) -> None:
    mark_changed(session, "usage", organization_ids)


def mark_access_changed(session: Session, organization_ids: Iterable[int | None]) -> None:
    """Who may call the API about these organizations changed (role, removal, Security
    settings, deletion): every worker drops its cached API callers for them."""
    mark_changed(session, "access", organization_ids)


def mark_user_access_changed(session: Session, user_ids: Iterable[int | None]) -> None:
    """These users' API keys or sign-in factors changed (revoked key, switched workspace,
    two-factor on or off, account deleted): every worker drops their cached callers."""
    mark_changed(session, "access_user", user_ids)


# What a short-link redirect is served from (`services/redirect_cache.py`): the link of a slug
# (by link id), and the organization a custom domain's Host serves. Both are noted by the
# session itself whenever such a row changes, whichever service changed it (below), so no
# service can forget to announce it.
REDIRECT_LINK = "redirect_link"  # (REDIRECT_LINK, link id): that link changed or went
REDIRECTS_ALL = ("redirect_links", 1)  # links changed in bulk (a statement, a cascade)
CUSTOM_HOSTS = ("custom_hosts", 1)  # a custom domain (or its organization) changed


def mark_redirects_changed(session: Session, link_ids: Iterable[int | None] = ()) -> None:
    """These links changed (their target, state, owner...): every worker drops what its
    redirects cached of them. No ids: links changed in bulk, every cached link goes."""
    ids = [i for i in link_ids if i]
    changes = session.info.setdefault(LIVE_CHANGES, set())
    if ids:
        changes.update((REDIRECT_LINK, i) for i in ids)
    else:
        changes.add(REDIRECTS_ALL)


def mark_personal_usage_changed(session: Session, user_ids: Iterable[int | None]) -> None:
    """The Personal Workspace's bars of these users (their own pool) need a refresh."""
    mark_changed(session, "personal_usage", user_ids)


class Deletes(Protocol):
    def delete(self, keys: Iterable[str]) -> None: ...


def remove_after_commit(session: Session, store: Deletes, keys: Iterable[str]) -> None:
    """Delete these keys from a blob store once the session's transaction commits (services
    never commit).

    Removing bytes any earlier would lose them if the transaction then rolled back, leaving
    rows that point at nothing; after a rollback the keys are forgotten and the bytes stay.
    """
    keys = list(keys)
    if keys:
        session.info.setdefault(REMOVE_AFTER_COMMIT, []).append((store, keys))


# --- what a flush or a statement changed, noted for the caches ------------------------------
#
# The session itself notes every change the caches depend on, whichever service made it, so
# no service can forget to announce one:
# - the REST read caches (`api/rest/cached_reads.py`) by workspace: ORG_ROWS / PERSONAL_ROWS
#   for any row of an organization (or a Personal Workspace) written in a unit of work,
#   BULK_ROWS for a bulk UPDATE or DELETE, which names no rows;
# - the redirect caches (`services/redirect_cache.py`): REDIRECT_LINK by link, every link
#   (REDIRECTS_ALL) or every custom host (CUSTOM_HOSTS) when those change in bulk or an
#   organization or user is deleted (their links and domains cascade).

# Rows that no cached REST read shows (append-only logs): not worth a drop on every write.
_UNSHOWN = (models.AuditEvent, models.OutboxMessage)

# Table → (an UPDATE counts too, not only a DELETE; drops cached links; drops cached custom
# hosts), for statements run in bulk (`delete(Link).where(...)`).
_REDIRECT_TABLES: dict[str, tuple[bool, bool, bool]] = {
    "link": (True, True, False),
    "custom_domain": (True, False, True),
    "organization": (False, True, True),
    "user": (False, True, False),
}


@event.listens_for(OrmSession, "after_flush")
def _note_flushed_rows(session: OrmSession, _context: object) -> None:
    """One pass over the rows this flush wrote (new ones have their ids by now): the
    redirect topics on every session, the workspace row topics on unit-of-work sessions."""
    changed: set[tuple[str, int]] = set()
    track_rows = bool(session.info.get(TRACKED))
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, models.CustomDomain):
            changed.add(CUSTOM_HOSTS)
        elif isinstance(row, models.Link) and row.id and row not in session.new:
            changed.add((REDIRECT_LINK, row.id))
        if not track_rows or isinstance(row, _UNSHOWN):
            continue
        if isinstance(row, models.Organization):
            changed.add((ORG_ROWS, row.id))
        elif (org := getattr(row, "organization_id", None)) is not None:
            changed.add((ORG_ROWS, org))
        elif (owner := getattr(row, "owner_id", None)) is not None:
            changed.add((PERSONAL_ROWS, owner))
    for row in session.deleted:
        if isinstance(row, (models.Organization, models.User)):
            changed.update((REDIRECTS_ALL, CUSTOM_HOSTS))
    changed = {(topic, key) for topic, key in changed if key}
    if changed:
        session.info.setdefault(LIVE_CHANGES, set()).update(changed)


@event.listens_for(OrmSession, "do_orm_execute")
def _note_bulk_statement(state: Any) -> None:
    """An UPDATE or DELETE statement names no rows: every cached REST read of a table with
    workspace rows goes (unit-of-work sessions), and every cached link or custom host when
    the table is one a redirect is served from."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None:
        table = getattr(state.bind_arguments.get("mapper"), "local_table", None)
    if table is None:
        return
    changed: set[tuple[str, int]] = set()
    if state.session.info.get(TRACKED) and ("organization_id" in table.c or "owner_id" in table.c):
        changed.add((BULK_ROWS, 1))
    rule = _REDIRECT_TABLES.get(table.name)
    if rule and (state.is_delete or rule[0]):
        if rule[1]:
            changed.add(REDIRECTS_ALL)
        if rule[2]:
            changed.add(CUSTOM_HOSTS)
    if changed:
        state.session.info.setdefault(LIVE_CHANGES, set()).update(changed)


@event.listens_for(OrmSession, "after_commit")
def _remove_files(session: OrmSession) -> None:
    for store, keys in session.info.pop(REMOVE_AFTER_COMMIT, ()):
        try:
            store.delete(keys)
        except Exception:  # the commit stands; leftover bytes are only wasted space
            log.warning("could not remove %s after commit", keys, exc_info=True)


@event.listens_for(OrmSession, "after_rollback")
def _keep_files(session: OrmSession) -> None:
    session.info.pop(REMOVE_AFTER_COMMIT, None)


# --- many rows in one statement ----------------------------------------------------------------


def insert_many(
    session: Session, statement: Any, rows: list[dict[str, Any]], *, distinct: bool = False
) -> None:
    """`session.connection().execute(statement, rows)` (an INSERT or upsert, every row with
    the same keys) without SQLAlchemy's per-row parameter handling: the statement is
    compiled once per dialect and key set, each row's values go through the columns' own
    bind processors and scalar defaults, and the driver's `executemany` gets them as they
    are. The click writer stores ~10 rows per click (the click and its rollups), and
    SQLAlchemy's handling of each row cost more than the database's; the writer is a
    thread of the worker, so that time held the GIL the redirects need. Core-level, as
    `connection.execute` is: no ORM events.

    `distinct`: no two rows meet the same row of the table (an upsert's conflict key), so
    they may go as one statement: on PostgreSQL over arrays (`unnest`), one round trip
    instead of psycopg's statement per row; on SQLite as multi-row VALUES (hundreds of rows
    a statement), where `executemany` would step once per row, letting go of the GIL and
    taking it back each time (each a wait for the event loop's thread, under load)."""
    if not rows:
        return
    connection = session.connection()
    plan = _insert_plan(statement, connection.dialect, tuple(rows[0]))
    if plan is None:  # a callable default to run per row: SQLAlchemy's way
        connection.execute(statement, rows)
        return
    sql, keys, defaults, processors = plan
    if distinct and connection.dialect.name == "postgresql":
        columns = {key: [] for key in keys}  # type: dict[str, list[Any]]
        for row in rows:
            named = {**defaults, **row}
            for key in keys:
                columns[key].append(named[key])
        for index, process in processors:
            columns[keys[index]] = [process(value) for value in columns[keys[index]]]
        connection.exec_driver_sql(_over_arrays(statement, connection.dialect, sql), columns)
        return
    params: list[Any] = []
    if connection.dialect.positional:
        take, single = itemgetter(*keys), len(keys) == 1
        for row in rows:
            values = take({**defaults, **row} if defaults else row)
            values = [values] if single else list(values)
            for index, process in processors:
                values[index] = process(values[index])
            params.append(tuple(values))
        if distinct and connection.dialect.name == "sqlite":  # many rows per statement
            per = max(1, min(500, _sqlite_variables(connection) // len(keys)))
            for start in range(0, len(params), per):
                chunk = params[start : start + per]
                flat = tuple(value for values in chunk for value in values)
                connection.exec_driver_sql(_many_values(sql, len(chunk)), flat)
            return
    else:
        for row in rows:
            named = {**defaults, **row}
            for index, process in processors:
                named[keys[index]] = process(named[keys[index]])
            params.append(named)
    connection.exec_driver_sql(sql, params)


@lru_cache(maxsize=32)  # statements built once (module constants, cached builders)
def _insert_plan(statement: Any, dialect: Any, given: tuple[str, ...]) -> Any:
    """(SQL, its parameters' names in order, scalar defaults of the columns not given,
    (position, bind processor) of the columns that have one); None when a column left
    out has a default that is not a plain value."""
    compiled = statement.compile(dialect=dialect, column_keys=list(given), for_executemany=True)
    names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
    table = statement.table
    defaults: dict[str, Any] = {}
    processors = []
    for index, name in enumerate(names):
        column = table.c[name]
        if name not in given:
            default = column.default
            if default is None or not default.is_scalar:
                return None
            defaults[name] = default.arg
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((index, process))
    return compiled.string, names, defaults, tuple(processors)


_PARAMETER = re.compile(r"%\((\w+)\)s(::[A-Z ]+)?")
_INSERT_VALUES = re.compile(
    r"(.*?) VALUES \((.*?)\)(?=(?: ON CONFLICT .*)?$)( ON CONFLICT .*)?$", re.S
)


@lru_cache(maxsize=32)
def _over_arrays(statement: Any, dialect: Any, sql: str) -> str:
    """`INSERT … VALUES (%(a)s::T, …) [ON CONFLICT …]` as `INSERT … SELECT * FROM
    unnest(%(a)s::T[], …) [ON CONFLICT …]`: each parameter a list, one per column."""
    found = _INSERT_VALUES.match(sql)
    assert found is not None, sql
    head, group, tail = found.group(1), found.group(2), found.group(3) or ""
    arrays = []
    for name, cast in _PARAMETER.findall(group):
        kind = cast or "::" + statement.table.c[name].type.compile(dialect=dialect)
        arrays.append(f"%({name})b{kind}[]")  # binary: no quoting of each element
    return f"{head} SELECT * FROM unnest({', '.join(arrays)}){tail}"


@lru_cache(maxsize=64)
def _many_values(sql: str, rows: int) -> str:
    """`INSERT … VALUES (?, …) [ON CONFLICT …]` with `rows` groups of values."""
    found = _INSERT_VALUES.match(sql)
    assert found is not None, sql
    head, group, tail = found.group(1), found.group(2), found.group(3) or ""
    return f"{head} VALUES {', '.join([f'({group})'] * rows)}{tail}"


def _sqlite_variables(connection: Any) -> int:
    """How many `?` one SQLite statement may hold (999 before SQLite 3.32)."""
    import sqlite3

    raw = connection.connection.dbapi_connection
    try:
        return raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python before 3.11
        return 999
