"""Outgoing HTTP to addresses people typed, safe against SSRF: webhook deliveries (SPEC
§17, `post`) and the identity providers' documents and token endpoints (SPEC §16,
`PinnedTransport` under httpx and authlib).

An endpoint's address is the customer's to choose, but the request leaves from inside our
network, so a URL must never reach the app's own machine, the private network or a cloud
metadata service:

- `resolve_target` turns the URL's host into addresses (an IP literal as is, a name through
  the system resolver) and refuses the URL when any of them is not a public unicast address
  (loopback, private, link-local such as 169.254.169.254, carrier-grade NAT, multicast,
  reserved, IPv4-mapped forms of those: everything `ipaddress` does not call global);
- `post` resolves again at delivery time and connects to the address it just checked (the
  socket goes to that IP, the Host header and TLS SNI carry the name), so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot redirect it;
- a redirect is never followed: a 3xx answer is a failed attempt, recorded with its Location;
- the answer is read up to RESPONSE_LIMIT bytes; connecting and reading have timeouts.

WEBHOOKS_ALLOW_PRIVATE_TARGETS (an operator setting, for tests and local development) lets
private addresses and plain http:// through.
"""

import http.client
import ipaddress
import socket
import ssl
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

RESPONSE_LIMIT = 4096  # bytes of an endpoint's answer kept in the delivery log
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not be called: its message says why, for the person who entered it."""


class DeliveryFailed(Exception):
    """The request could not be made or answered (refused connection, timeout, TLS)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (for Host and SNI)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # the checked IPs to connect to, in resolver order


@dataclass(frozen=True)
class Response:
    status: int
    body: str  # the first RESPONSE_LIMIT bytes, decoded leniently
    location: str = ""  # of a redirect (not followed)


def is_public(address: IPAddress) -> bool:
    """Only global unicast addresses; an IPv4-mapped IPv6 address is judged as its IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an https:// URL (http:// too with private targets
    allowed); anything else is refused with a message."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused(
            "Enter a valid URL, like https://hooks.example.com/orgportal."
        ) from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused("The URL must start with https://.")
    if not parts.hostname:
        raise TargetRefused("Enter a valid URL, like https://hooks.example.com/orgportal.")
    if parts.username or parts.password:
        raise TargetRefused("The URL may not contain a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve_target(
    url: str,
    *,
    allow_private: bool = False,
    only_public: str = "webhooks are only sent to public addresses.",
) -> Target:
    """The URL's checked target, or TargetRefused (bad URL, a name that does not resolve, or
    an address that is not public)."""
    scheme, host, port, path = parse(url, allow_private=allow_private)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise TargetRefused(f"The address of {host} could not be found.") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"The address of {host} could not be found.")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    f"{host} points to a private, loopback or link-local address ({address}); "
                    + only_public
                )
    ordered = list(dict.fromkeys(str(address) for address in addresses))
    return Target(scheme, host, port, path, tuple(ordered))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` while Host stays the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection(
            (self._address, self.port), min(CONNECT_TIMEOUT, self.timeout)
        )
        self.sock.settimeout(self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to `address`; TLS checks the certificate against the URL's name (SNI)."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._address, self.port), min(CONNECT_TIMEOUT, self.timeout)
        )
        sock.settimeout(self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = READ_TIMEOUT,
) -> Response:
    """POST `body` to the URL's checked address. TargetRefused when the URL now resolves to
    an address that is not allowed; DeliveryFailed when no answer came within `timeout`."""
    target = resolve_target(url, allow_private=allow_private)
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, target.addresses[0], timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "orgportal-webhooks"}
            | headers,
        )
        answer = connection.getresponse()
        data = answer.read(RESPONSE_LIMIT)
        return Response(
            answer.status,
            data.decode("utf-8", errors="replace"),
            answer.getheader("Location", "") if 300 <= answer.status < 400 else "",
        )
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__) from exc
    finally:
        connection.close()


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that resolves and checks each request's host (`resolve_target`)
    and connects to the address it checked, as `post` does: a check made earlier (when the
    URL was saved) cannot be turned by DNS rebinding into a request to the private network.
    Refusals and failures surface as `httpx.ConnectError`; answers are cut at `limit` bytes
    (a longer one is an error: a document cut short would be misread).

    authlib's clients are built on `httpx2`, httpx's fork with the same API: the response
    and errors are made with the package of the request being sent, so one transport
    serves both."""

    def __init__(self, *, allow_private: bool, timeout: float = READ_TIMEOUT, limit: int):
        self.allow_private, self.timeout, self.limit = allow_private, timeout, limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        http = sys.modules[type(request).__module__.partition(".")[0]]  # httpx or httpx2
        try:
            target = resolve_target(
                str(request.url),
                allow_private=self.allow_private,
                only_public="only public addresses are called.",
            )
        except TargetRefused as exc:
            raise http.ConnectError(str(exc), request=request) from exc
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target.host, target.port, target.addresses[0], self.timeout)
        # identity encoding: the bytes read are the document, and the limit counts them;
        # names in their usual case (httpx lowers them; some servers read "Authorization")
        headers = {
            "-".join(part.capitalize() for part in name.split("-")): value
            for name, value in request.headers.items()
            if name.lower() != "accept-encoding"
        }
        try:
            connection.request(request.method, target.path, body=request.read(), headers=headers)
            answer = connection.getresponse()
            data = answer.read(self.limit + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise http.ConnectError(f"{type(exc).__name__}: {exc}"[:300], request=request) from exc
        finally:
            connection.close()
        if len(data) > self.limit:
            raise http.ReadError(f"The answer is over {self.limit} bytes.", request=request)
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() != "transfer-encoding"]
        return http.Response(answer.status, headers=kept, content=data, request=request)
