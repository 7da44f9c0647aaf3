"""SQLite (development, the e2e suite) under concurrent writers: a unit of work that reads
inside a savepoint and then writes must wait its turn, never fail at once with "database
is locked" because another connection committed in between."""

import threading
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from orgportal.db import make_engine


def test_a_savepoint_that_reads_then_writes_survives_a_commit_in_between(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INT)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    read_done, other_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with Session(engine) as session:
                read_done.wait(5)
                other_started.set()
                session.execute(text("UPDATE counter SET value = value + 1"))
                session.commit()
        except BaseException as exc:  # the assertion below names it
            errors.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with Session(engine) as session:
        with session.begin_nested():  # as files.upload_each does per file
            value = session.execute(text("SELECT value FROM counter")).scalar_one()
            read_done.set()
            other_started.wait(5)
            thread.join(0.3)  # the other writer waits for this transaction, and stays waiting
            assert thread.is_alive()
            session.execute(text("UPDATE counter SET value = :v"), {"v": value + 10})
        session.commit()
    thread.join(10)
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counter")).scalar_one() == 11


def test_savepoints_still_roll_back_alone(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (name TEXT)"))
    for opened_by in ("an insert", "the savepoint"):
        with Session(engine) as session:
            if opened_by == "an insert":
                session.execute(text("INSERT INTO item VALUES ('kept')"))
            try:
                with session.begin_nested():
                    session.execute(text("INSERT INTO item VALUES ('undone')"))
                    raise ValueError
            except ValueError:
                pass
            session.execute(text("INSERT INTO item VALUES (:name)"), {"name": opened_by})
            session.commit()
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM item ORDER BY name")).scalars().all()
    assert names == ["an insert", "kept", "the savepoint"]
