"""A real local HTTP receiver for webhook tests: a threaded HTTP server on a free port that
verifies every delivery with the `standardwebhooks` library, as an integrator would.

`stop()` closes the port (deliveries fail: connection refused) and `start()` opens the same
port again, so a test can take the receiver down and bring it back. `answer` sets the status
(and Location) it replies with.
"""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    message_id: str
    body: dict
    headers: dict[str, str]
    verified: bool


@dataclass
class Receiver:
    secret: str = ""
    port: int = 0
    status: int = 200
    location: str = ""
    reply: bytes = b"ok"
    received: list[Received] = field(default_factory=list)
    hits: int = 0
    # Set `hold` to keep each request unanswered until it is set (`arrived` says one came):
    # a sender killed meanwhile never learns the request was received.
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = False
                parsed: dict = {}
                if receiver.secret:
                    try:
                        parsed = Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except Exception:
                        parsed = json.loads(body or b"{}")
                with receiver._changed:
                    receiver.hits += 1
                    if 200 <= receiver.status < 300:
                        receiver.received.append(
                            Received(headers.get("webhook-id", ""), parsed, headers, verified)
                        )
                    receiver._changed.notify_all()
                hold = receiver.hold
                if hold is not None:
                    receiver.arrived.set()
                    hold.wait(30)
                try:
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", str(len(receiver.reply)))
                    self.end_headers()
                    self.wfile.write(receiver.reply)
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args):
                pass

        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Blocks until `count` deliveries were accepted (no fixed sleep)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)
