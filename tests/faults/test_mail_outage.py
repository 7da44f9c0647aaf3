"""SPEC §18: the mail server goes down (a real aiosmtpd of the test's own, on a free port,
stopped mid-test and started again on the same port). Mail waits in the outbox, is never
given up because of the outage, and every message is delivered exactly once as soon as the
server is back: the app's own mail worker, the real outbox and the real SMTP transport.
"""

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from orgportal.adapters.mail import SmtpTransport
from orgportal.config import settings
from orgportal.db import make_engine
from orgportal.models import OutboxMessage
from orgportal.models.base import utcnow
from orgportal.services import outbox
from tests.faults.services import SmtpServer

SENDER = "orgportal <no-reply@orgportal.test>"


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The test's own SQLite database (the service broken here is the mail server)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def queue(engine: Engine, *addresses: str) -> None:
    with Session(engine) as session:
        for address in addresses:
            outbox.queue_mail(
                session, to=address, subject="Confirm your email", body="https://x.test/c"
            )
        session.commit()


def rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


class AppMailWorker:
    """`orgportal.orgportal.mail_worker`, the lifespan task every backend worker runs, in an
    event loop of its own thread; `stop()` cancels it as the app's shutdown does."""

    def __init__(self) -> None:
        from orgportal import orgportal as app_module

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self._start(app_module), self.loop).result()

    async def _start(self, app_module) -> asyncio.Task:
        return asyncio.create_task(app_module.mail_worker())

    def stop(self) -> None:
        async def cancel() -> None:
            self.task.cancel()
            await asyncio.wait([self.task], timeout=15)

        asyncio.run_coroutine_threadsafe(cancel(), self.loop).result(timeout=20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def app_worker(engine, smtp, monkeypatch) -> Iterator[None]:
    """The app's mail worker, configured as in production with SMTP_URL, on this database."""
    from orgportal import orgportal as app_module

    monkeypatch.setattr(settings, "smtp_url", smtp.url)
    monkeypatch.setattr(settings, "mail_from", SENDER)
    monkeypatch.setattr(app_module, "engine", lambda: engine)
    worker = AppMailWorker()
    yield
    worker.stop()


def test_mail_queued_while_the_server_is_down_goes_out_once_as_soon_as_it_is_back(
    engine, smtp, app_worker
):
    queue(engine, "before@example.com")
    assert smtp.wait_for(1, timeout=15), "the worker delivers while the server is up"

    smtp.stop()  # the mail server goes down
    during = [f"during{n}@example.com" for n in range(4)]
    queue(engine, *during)
    for _ in range(100):  # the worker meets the outage
        if any(m.last_error for m in rows(engine)):
            break
        threading.Event().wait(0.1)
    threading.Event().wait(4)  # a few more rounds (one a second) against the closed port
    waiting = [m for m in rows(engine) if m.sent_at is None]
    assert [m.to_address for m in waiting] == during
    assert all(m.failed_at is None for m in waiting)
    # the outage is the server's, not the messages': it does not use up their attempts
    assert [m.attempts for m in waiting] == [0, 0, 0, 0]
    assert "could not be reached" in waiting[0].last_error

    smtp.start()  # back on the same port
    assert smtp.wait_for(5, timeout=10), (
        f"not delivered within 10 s of the server's return: {smtp.recipients}, "
        f"{[(m.to_address, m.attempts, m.next_attempt_at) for m in rows(engine)]}"
    )
    threading.Event().wait(2)  # nothing more arrives: no message twice
    assert sorted(smtp.recipients) == sorted(["before@example.com", *during])
    assert all(m.sent_at is not None and m.failed_at is None for m in rows(engine))
    assert all(m.attempts == 1 and m.last_error == "" for m in rows(engine))


class Clock:
    """The outbox's clock, moved by the test: hours of outage in a few seconds."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_hours_of_outage_give_no_message_up_and_all_go_out_within_a_minute_of_the_return(
    engine, smtp, monkeypatch
):
    """Rounds as the worker runs them (the clock is the test's): messages queued all through a
    three-hour outage wait; none reaches MAIL_MAX_ATTEMPTS; all go out right after."""
    clock = Clock()
    monkeypatch.setattr(outbox, "utcnow", clock)
    transport = SmtpTransport(smtp.url, SENDER)
    smtp.stop()
    expected = []
    for minute in range(0, 180, 5):  # a message every 5 minutes, a round every 30 s
        expected.append(f"user{minute}@example.com")
        queue(engine, expected[-1])
        for _ in range(10):
            assert outbox.deliver_pending(engine, transport) == 0
            clock.advance(30)
    assert smtp.messages == []
    assert all(m.failed_at is None for m in rows(engine)), "a message was given up"
    assert max(m.attempts for m in rows(engine)) < settings.mail_max_attempts

    smtp.start()
    delivered = 0
    for _ in range(6):  # one simulated minute of rounds
        delivered += outbox.deliver_pending(engine, transport)
        clock.advance(10)
    assert delivered == len(expected) == len(smtp.messages)
    assert sorted(smtp.recipients) == sorted(expected)
    assert all(m.sent_at is not None for m in rows(engine))


def test_a_message_the_server_accepted_just_before_shutting_down_is_not_sent_again(
    engine, smtp
):
    """A server that is going down accepts the message (250), then answers QUIT with 421:
    the message was delivered and must be marked so, not retried (a duplicate) later."""
    queue(engine, "once@example.com")
    transport = SmtpTransport(smtp.url, SENDER)
    smtp.quit_reply = "421 4.3.2 Service shutting down"
    delivered = outbox.deliver_pending(engine, transport)
    smtp.stop()
    smtp.quit_reply = None
    smtp.start()

    [message] = rows(engine)
    with Session(engine) as session:  # whatever back-off it got has passed
        session.get(OutboxMessage, message.id).next_attempt_at = utcnow() - timedelta(hours=2)
        session.commit()
    delivered += outbox.deliver_pending(engine, transport)
    assert delivered == 1
    assert smtp.recipients == ["once@example.com"]
    [message] = rows(engine)
    assert message.sent_at is not None and message.attempts == 1
