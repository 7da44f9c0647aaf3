"""The outbox: mail written as .eml by default, over real SMTP when configured, never lost
while it can still be delivered, and given up visibly when it cannot."""

import email
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from orgportal.adapters.mail import FileTransport, SmtpTransport
from orgportal.config import settings
from orgportal.models import AuditEvent, OutboxMessage
from orgportal.services import outbox
from orgportal.services.outbox import deliver_pending
from tests.factories import audit_actions, make_org, make_user

SENDER = "orgportal <no-reply@orgportal.test>"


def queue(session, to="ada@example.com"):
    outbox.queue_mail(
        session, to=to, subject="Hello", body="Open https://x.test/a", link="https://x.test/a"
    )
    session.commit()


def test_file_transport_writes_a_readable_eml(engine, session, tmp_path):
    queue(session)
    assert deliver_pending(engine, FileTransport(tmp_path, SENDER)) == 1
    [path] = tmp_path.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes())
    assert (message["To"], message["Subject"]) == ("ada@example.com", "Hello")
    assert "https://x.test/a" in message.get_payload()
    assert deliver_pending(engine, FileTransport(tmp_path, SENDER)) == 0


class Inbox:
    def __init__(self):
        self.messages = []
        self.fail_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next:
            self.fail_next -= 1
            return "451 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def test_smtp_failure_is_retried_and_nothing_is_lost(engine, session, smtp_server):
    inbox, url = smtp_server
    inbox.fail_next = 1
    queue(session)
    transport = SmtpTransport(url, SENDER)

    assert deliver_pending(engine, transport) == 0
    session.expire_all()
    message = session.exec(select(OutboxMessage)).one()
    assert message.sent_at is None and message.attempts == 1 and "451" in message.last_error
    assert inbox.messages == []

    message.next_attempt_at = message.created_at  # the back-off has passed
    session.add(message)
    session.commit()
    assert deliver_pending(engine, transport) == 1
    assert [m["To"] for m in inbox.messages] == ["ada@example.com"]


def test_unreachable_smtp_server_keeps_the_message_queued(engine, session):
    queue(session)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    started = time.monotonic()
    assert deliver_pending(engine, SmtpTransport(f"smtp://127.0.0.1:{dead_port}", SENDER)) == 0
    assert time.monotonic() - started < 10
    session.expire_all()
    assert session.exec(select(OutboxMessage)).one().sent_at is None


def test_several_workers_deliver_each_message_exactly_once(engine, session):
    for n in range(12):
        queue(session, to=f"user{n}@example.com")
    sent: list[str] = []
    lock = threading.Lock()

    def transport(message: OutboxMessage) -> None:
        time.sleep(0.01)  # slow enough for the workers to overlap
        with lock:
            sent.append(message.to_address)

    workers = [threading.Thread(target=deliver_pending, args=(engine, transport)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(sent) == sorted(f"user{n}@example.com" for n in range(12))
    session.expire_all()
    assert all(m.sent_at for m in session.exec(select(OutboxMessage)))


def test_header_values_with_line_breaks_are_folded_not_fatal(engine, session, tmp_path):
    """Hardening #9: a CR/LF stored before intake refused it must not block the message."""
    outbox.queue_mail(
        session, to="ada@example.com", subject="Help\r\nBcc: all@evil.test", body="Hi"
    )
    session.commit()
    assert deliver_pending(engine, FileTransport(tmp_path, SENDER)) == 1
    [path] = tmp_path.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes())
    assert message["Subject"] == "Help Bcc: all@evil.test"
    assert message["Bcc"] is None


def test_a_message_that_always_fails_is_given_up_and_shown_to_its_organization(engine, session):
    """Hardening #9: after MAIL_MAX_ATTEMPTS the message is failed, never retried again, and
    the organization's Owner/Admins read why in the audit log."""
    owner = make_user(session)
    org = make_org(session, owner)
    outbox.queue_mail(
        session, to="rita@example.com", subject="Re", body="Hi", organization_id=org.id
    )
    session.commit()
    calls: list[int] = []

    def broken(message: OutboxMessage) -> None:
        calls.append(message.id)
        raise ConnectionRefusedError("mail server down")

    for attempt in range(1, settings.mail_max_attempts + 1):
        assert deliver_pending(engine, broken) == 0
        session.expire_all()
        message = session.exec(select(OutboxMessage)).one()
        assert message.attempts == attempt
        assert (message.failed_at is not None) == (attempt == settings.mail_max_attempts)
        message.next_attempt_at = message.created_at  # the back-off has passed
        session.add(message)
        session.commit()
    assert len(calls) == 8

    assert deliver_pending(engine, broken) == 0
    assert len(calls) == 8  # given up: no further attempt
    assert audit_actions(session, org.id)[-1] == "mail.failed"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "mail.failed")).one()
    assert event.summary == (
        "Email to rita@example.com could not be delivered after 8 attempts: "
        "ConnectionRefusedError: mail server down"
    )


def test_a_given_up_message_without_an_organization_is_only_marked(engine, session, monkeypatch):
    monkeypatch.setattr(settings, "mail_max_attempts", 1)
    queue(session)

    def broken(message: OutboxMessage) -> None:
        raise OSError("no route")

    assert deliver_pending(engine, broken) == 0
    session.expire_all()
    assert session.exec(select(OutboxMessage)).one().failed_at is not None
    assert session.exec(select(AuditEvent)).all() == []


def test_the_attempts_span_hours_so_a_short_outage_fails_nothing():
    """Giving up must not turn a mail server that is down for a while into lost mail."""
    delays = [outbox.retry_delay(n) for n in range(1, settings.mail_max_attempts)]
    assert delays[0] == timedelta(minutes=1) and max(delays) == outbox.MAX_BACKOFF
    assert sum(delays, timedelta()) > timedelta(hours=2)
