"""The webhook transport (SPEC §17) against real local sockets: which addresses are public,
the connection pinned to the checked address, redirects not followed, answers cut to a few
KB, and a silent server timing out."""

import ipaddress
import socket
import threading
import time

import httpx
import pytest

from orgportal.adapters import webhook_http
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address, public):
    assert webhook_http.is_public(ipaddress.ip_address(address)) is public


def test_a_name_is_resolved_and_each_of_its_addresses_checked():
    with pytest.raises(webhook_http.TargetRefused, match="localhost points to"):
        webhook_http.resolve_target("https://localhost/hooks")
    target = webhook_http.resolve_target("https://localhost:8443/x?y=1", allow_private=True)
    assert target.host == "localhost" and target.port == 8443 and target.path == "/x?y=1"
    assert set(target.addresses) <= {"127.0.0.1", "::1"}


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(receiver):
    answer = webhook_http.post(
        f"http://localhost:{receiver.port}/hooks?a=1",
        b'{"type":"webhook.test"}',
        {"webhook-id": "msg_1"},
        allow_private=True,
    )
    assert answer.status == 200 and answer.body == "ok"
    [got] = receiver.wait_for(1)
    assert got.headers["host"] == f"localhost:{receiver.port}"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "msg_1"


def test_a_redirect_is_answered_not_followed(receiver):
    inner = Receiver().start()
    try:
        receiver.status, receiver.location = 307, inner.url
        answer = webhook_http.post(receiver.url, b"{}", {}, allow_private=True)
        assert answer.status == 307 and answer.location == inner.url
        assert inner.hits == 0
    finally:
        inner.stop()


def test_the_answer_is_cut_to_a_few_kb(receiver):
    receiver.reply = b"y" * 1_000_000
    answer = webhook_http.post(receiver.url, b"{}", {}, allow_private=True)
    assert len(answer.body) == webhook_http.RESPONSE_LIMIT


def test_a_silent_server_times_out():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted = []
        threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
        started = time.monotonic()
        with pytest.raises(webhook_http.DeliveryFailed, match="timed out"):
            webhook_http.post(
                f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True, timeout=0.5
            )
        assert time.monotonic() - started < 5
        for connection, _ in accepted:
            connection.close()


def test_nothing_listening_is_a_failed_delivery():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(webhook_http.DeliveryFailed, match="ConnectionRefused"):
        webhook_http.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True)


def test_https_is_required_unless_private_targets_are_allowed():
    with pytest.raises(webhook_http.TargetRefused, match="https"):
        webhook_http.resolve_target("http://93.184.215.14/")
    assert webhook_http.resolve_target("https://93.184.215.14/").addresses == ("93.184.215.14",)


# --- the same pinning under httpx: identity providers' documents (SPEC §16) ------------------


@pytest.fixture
def dns(monkeypatch):
    """`idp.example` resolves to whatever the test says *now* (a DNS answer that changes
    between the check at save time and the request: rebinding)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_the_httpx_transport_checks_the_address_at_request_time(dns):
    dns["idp.example"] = "127.0.0.1"  # was public when the URL was saved
    transport = webhook_http.PinnedTransport(allow_private=False, limit=1000)
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(httpx.ConnectError, match="private, loopback"),
    ):
        client.get("https://idp.example/.well-known/openid-configuration")


def test_the_httpx_transport_connects_to_the_checked_address_with_the_name_as_host(
    dns, receiver
):
    dns["idp.example"] = "127.0.0.1"
    transport = webhook_http.PinnedTransport(allow_private=True, limit=1000)
    with httpx.Client(transport=transport) as client:
        answer = client.post(f"http://idp.example:{receiver.port}/token", content=b"{}")
    assert answer.status_code == 200 and answer.text == "ok"
    [got] = receiver.wait_for(1)
    assert got.headers["host"] == f"idp.example:{receiver.port}"


def test_the_httpx_transport_refuses_an_answer_over_its_limit(receiver):
    receiver.reply = b"y" * 5000
    transport = webhook_http.PinnedTransport(allow_private=True, limit=1000)
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(httpx.ReadError, match="over 1000 bytes"),
    ):
        client.post(receiver.url, content=b"{}")
