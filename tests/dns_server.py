"""A small authoritative DNS server on 127.0.0.1 for the custom-domain tests (SPEC §15).

It answers TXT questions from a dict the tests write (`set_txt`); every other name is
NXDOMAIN, so no test ever talks to the internet. The app reaches it through
`DNS_RESOLVER=127.0.0.1:<port>`.
The browser tests run it in the pytest process (a thread); the app under test, another
process, asks it over UDP.
"""

import socket
import threading

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class TxtResolver(BaseResolver):
    def __init__(self, source: dict[str, list[str]]) -> None:
        self.source = source
        self.lock = threading.Lock()

    def records(self) -> dict[str, list[str]]:
        with self.lock:
            return {name: list(values) for name, values in self.source.items()}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        values = self.records().get(name)
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=0))
        return reply


class LocalDns:
    """The server and its records: `set_txt("_orgportal.go.acme.com", "orgportal-verify=…")`."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.resolver = TxtResolver(self.records)
        self.port = free_udp_port()
        self.server = DNSServer(
            self.resolver,
            address="127.0.0.1",
            port=self.port,
            logger=DNSLogger(logf=lambda _s: None),
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "LocalDns":
        self.server.start_thread()
        return self

    def stop(self) -> None:
        self.server.stop()

    def set_txt(self, name: str, *values: str) -> None:
        with self.resolver.lock:
            self.records[name.rstrip(".").lower()] = list(values)

    def remove(self, name: str) -> None:
        with self.resolver.lock:
            self.records.pop(name.rstrip(".").lower(), None)

    def clear(self) -> None:
        with self.resolver.lock:
            self.records.clear()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
