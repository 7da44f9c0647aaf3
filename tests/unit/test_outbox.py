"""The outbox: mail written as .eml by default, over real SMTP when configured, never lost."""

import email
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from orgportal.adapters.mail import FileTransport, SmtpTransport
from orgportal.models import OutboxMessage
from orgportal.services import outbox
from orgportal.services.outbox import deliver_pending

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
