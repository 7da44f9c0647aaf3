"""SPEC §18: the app is stopped with SIGTERM (what systemd, Docker or Kubernetes send, here
to `make run`'s process group as tests/e2e/conftest.py stops it) while it holds work in memory.
The real app, started with `make run` on a database of the test's own:

- clicks queued for a batch write (CLICK_RECORDING=queued, an hour between writes) reach the
  database before the process exits;
- the mail worker finishes the message it is sending to a slow SMTP server (aiosmtpd of the
  test's own) and claims no other: nothing is left claimed by a process that is gone, and
  every message is delivered exactly once when delivery resumes.

The test acts as a supervisor: it waits a bounded time (10 s, Docker's default) for every
process of the app to exit, then kills what is left, as a supervisor would.
"""

import os
import signal
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import func
from sqlmodel import Session, col, select

from orgportal.adapters.mail import SmtpTransport
from orgportal.db import make_engine
from orgportal.models import Click, ClickRollup, OutboxMessage
from orgportal.models.analytics import TOTAL
from orgportal.models.base import utcnow
from orgportal.services import links, outbox
from tests.factories import make_user
from tests.faults.services import SmtpServer, free_port, start_app

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
SUPERVISOR_GRACE = 10.0  # seconds between SIGTERM and SIGKILL (docker stop's default)


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    """tests/e2e/conftest.py's environment: a temporary SQLite database, mail and data dirs."""
    port = free_port()
    return {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_USE_SYSTEM_BUN": "1",
        **extra,
    }


def sigterm(app) -> float | None:
    """SIGTERM to the app's process group; the seconds until every one of its processes had
    exited, or None when some had to be killed after SUPERVISOR_GRACE."""
    group = [psutil.Process(app.process.pid)]
    group += group[0].children(recursive=True)
    started = time.monotonic()
    os.killpg(app.process.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(group, timeout=SUPERVISOR_GRACE)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=10)
    app.process.wait(timeout=10)
    return None if alive else time.monotonic() - started


def test_sigterm_writes_the_clicks_still_queued_before_the_app_exits(tmp_path):
    env = environment(tmp_path, CLICK_RECORDING="queued", CLICK_FLUSH_SECONDS="3600")
    app = start_app(env, tmp_path / "app.log")
    engine = make_engine(env["DATABASE_URL"])
    try:
        with Session(engine, expire_on_commit=False) as session:  # migrated by `make run`
            owner = make_user(session)
            slug = f"sd{uuid.uuid4().hex[:8]}"
            link = links.create_link(
                session, user=owner, organization_id=None, target_url="https://example.com/", slug=slug
            )
            session.commit()
        with httpx.Client(base_url=app.url, timeout=10) as http:
            for _ in range(5):
                followed = http.get(f"/l/{slug}", headers={"User-Agent": BROWSER})
                assert followed.status_code == 302, followed.text
        with Session(engine) as session:  # queued in the worker's memory, not written yet
            assert session.exec(select(func.count()).select_from(Click)).one() == 0

        stopped_in = sigterm(app)
    finally:
        app.stop()
    assert stopped_in is not None, f"the app did not stop on SIGTERM:\n{app.log_text()[-3000:]}"
    with Session(engine) as session:
        clicks = session.exec(select(Click).where(Click.link_id == link.id)).all()
        total = session.exec(
            select(func.sum(ClickRollup.clicks)).where(
                ClickRollup.link_id == link.id, ClickRollup.dimension == TOTAL
            )
        ).one()
    engine.dispose()
    assert len(clicks) == 5, f"{len(clicks)} of 5 queued clicks written at shutdown"
    assert total == 5  # and counted in the daily rollups the analytics page reads
    assert "Traceback (most recent call last)" not in app.log_text()


def test_sigterm_finishes_the_mail_being_sent_and_leaves_no_message_claimed(tmp_path):
    smtp = SmtpServer(delay=3).start()  # each message takes 3 s to be accepted
    env = environment(tmp_path, SMTP_URL=smtp.url)
    app = start_app(env, tmp_path / "app.log")
    engine = make_engine(env["DATABASE_URL"])
    addresses = [f"member{n}@example.com" for n in range(6)]
    try:
        with Session(engine) as session:
            for address in addresses:
                outbox.queue_mail(session, to=address, subject="Welcome", body="Hello")
            session.commit()
        assert smtp.receiving.wait(30), "the app's mail worker sent nothing"
        stopped_in = sigterm(app)  # while the first message is being sent
        stopped_at = utcnow()
    finally:
        app.stop()
        smtp.stop()
    assert stopped_in is not None, f"the app did not stop on SIGTERM:\n{app.log_text()[-3000:]}"

    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    claimed = [m.to_address for m in rows if m.sent_at is None and m.next_attempt_at > stopped_at]
    assert claimed == [], f"left claimed by the stopped app: {claimed}"
    sent = [m.to_address for m in rows if m.sent_at is not None]
    assert sent and sent == smtp.recipients  # what was sent was accepted, and marked so
    assert all(m.attempts == 0 for m in rows if m.sent_at is None)  # the others untouched

    # delivery resumes (another worker, or the app started again): each message once
    smtp.delay = 0
    smtp.start()
    try:
        outbox.deliver_pending(engine, SmtpTransport(smtp.url, "orgportal <no-reply@x.test>"))
    finally:
        smtp.stop()
        engine.dispose()
    assert sorted(smtp.recipients) == sorted(addresses), smtp.recipients
    assert "Traceback (most recent call last)" not in app.log_text()
