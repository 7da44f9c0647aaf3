"""SPEC §17/§18: the app's own webhook worker (`orgportal.orgportal.webhook_worker`, the
lifespan task every backend worker runs) against a real local receiver that verifies every
delivery with the `standardwebhooks` library. The receiver goes down, the worker is stopped
as at a shutdown and started again, the receiver comes back: every event is delivered,
verified, and none is given up."""

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from orgportal.config import settings
from orgportal.db import make_engine
from orgportal.models import WebhookMessage
from orgportal.services import webhooks
from tests.factories import make_org, make_user
from tests.webhook_receiver import Receiver


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


class AppWebhookWorker:
    """The lifespan task in an event loop of its own thread; `stop()` cancels it as the app's
    shutdown does."""

    def __init__(self) -> None:
        from orgportal import orgportal as app_module

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self._start(app_module), self.loop).result()

    async def _start(self, app_module) -> asyncio.Task:
        return asyncio.create_task(app_module.webhook_worker())

    def stop(self) -> None:
        async def cancel() -> None:
            self.task.cancel()
            await asyncio.wait([self.task], timeout=15)

        asyncio.run_coroutine_threadsafe(cancel(), self.loop).result(timeout=20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def rows(engine: Engine) -> list[WebhookMessage]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookMessage).order_by(WebhookMessage.id)))


def wait_until(condition, timeout: float = 30.0) -> bool:
    """Polls `condition` (no fixed sleep: returns as soon as it holds)."""
    event = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if condition():
            return True
        event.wait(0.1)
    return condition()


def test_receiver_outage_and_worker_restart_deliver_every_event(engine, monkeypatch):
    from orgportal import orgportal as app_module

    monkeypatch.setattr(settings, "webhooks_allow_private_targets", True)
    monkeypatch.setattr(app_module, "engine", lambda: engine)
    receiver = Receiver().start()
    with Session(engine, expire_on_commit=False) as session:
        owner = make_user(session, "owner@example.com")
        org = make_org(session, owner)
        new = webhooks.create_endpoint(
            session,
            user=owner,
            organization_id=org.id,
            url=receiver.url,
            event_types=["member.joined"],
        )
        session.commit()
    receiver.secret = new.secret
    receiver.stop()  # down before anything is sent

    worker = AppWebhookWorker()
    try:
        with Session(engine) as session:
            for n in range(5):
                webhooks.emit(session, org.id, "member.joined", {"n": n})
            session.commit()
        assert wait_until(lambda: all(m.attempts >= 1 for m in rows(engine)))
        assert all(m.delivered_at is None and m.last_error for m in rows(engine))
    finally:
        worker.stop()  # as at a shutdown: nothing stays claimed beyond the round

    receiver.start()  # back, on the same port
    worker = AppWebhookWorker()  # a new worker process would run the same task
    try:
        got = receiver.wait_for(5, timeout=60)
        assert wait_until(lambda: all(m.delivered_at is not None for m in rows(engine)))
    finally:
        worker.stop()
        receiver.stop()
    assert sorted(r.body["data"]["n"] for r in got) == list(range(5))
    assert all(r.verified for r in got)
    assert all(m.failed_at is None for m in rows(engine))
