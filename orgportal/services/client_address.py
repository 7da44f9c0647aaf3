"""Who is calling: the address that per-client rate limits count (SPEC §11).

The connection's peer is the only address nobody can forge. Behind a reverse proxy the peer is
the proxy, and the real client is in `X-Forwarded-For`, which every hop appends to, so only
its right-hand end is written by machines we trust; anything to the left of the first
untrusted hop may be made up by the client. Hence: believe the header only when the peer is a
configured proxy (TRUSTED_PROXIES), and walk it from the right, skipping further trusted
proxies, to the first address that is not one of ours.
"""

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from orgportal.config import settings

Network = IPv4Network | IPv6Network


def client_address(
    peer: str, forwarded_for: str | None = None, trusted: Sequence[Network] | None = None
) -> str:
    """The client's address given the connection's `peer` and its `X-Forwarded-For` value
    (several header lines joined with commas). `trusted` defaults to TRUSTED_PROXIES."""
    proxies = tuple(settings.trusted_proxies if trusted is None else trusted)
    return _client_address(peer, forwarded_for, proxies)


def of_scope(scope: Mapping[str, Any]) -> str:
    """`client_address` of an ASGI request scope: its peer and every `X-Forwarded-For` line,
    read from the raw headers (as Starlette's `client` and `headers.getlist` would, without
    building them: every request asks)."""
    peer = (scope.get("client") or ("", 0))[0] or ""
    forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    return client_address(peer, ",".join(forwarded) or None)


@lru_cache(maxsize=4096)
def _client_address(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """Remembered per (peer, header, proxies): every request asks, twice (its routing and its
    log line), and parsing addresses is most of what that costs."""
    peer = peer.strip()
    if not _is_trusted(peer, proxies):
        return _normal(peer)
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return _normal(hop)
    # Only proxies of ours in the chain: the leftmost is the closest we know to the client.
    return _normal(hops[0]) if hops else _normal(peer)


def _parse(address: str) -> IPv4Address | IPv6Address | None:
    try:
        ip = ip_address(address.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped:  # ::ffff:10.0.0.1 is 10.0.0.1
        return ip.ipv4_mapped
    return ip


def is_trusted_proxy(peer: str) -> bool:
    """Is the connection's peer one of TRUSTED_PROXIES (whose X-Forwarded-* we believe)?"""
    return _is_trusted(peer.strip(), settings.trusted_proxies)


def _is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in network for network in proxies)


def _normal(address: str) -> str:
    """One spelling per address (so `::FFFF:1.2.3.4` and `1.2.3.4` share a limit)."""
    ip = _parse(address)
    return str(ip) if ip is not None else address or "unknown"


# --- the address a use case runs for ----------------------------------------------------------
# Set once at each boundary (the gateway for every HTTP request, the state core for every
# websocket event), read by `permissions.require` so that an organization's Security settings
# (SPEC §13) are held for *whatever organization owns the object* a service touches, without
# every service taking the address as an argument. Unset (a script, a job) it reads as
# "unknown", which no IP allowlist allows: a boundary that forgets it fails closed.
_current: ContextVar[str | None] = ContextVar("client_address", default=None)
_through_api: ContextVar[bool] = ContextVar("client_through_api", default=False)


def current() -> str:
    """The address of the client the running use case is for ("unknown" when unset)."""
    return _current.get() or "unknown"


def current_is_api() -> bool:
    """Whether the running use case came through the REST API (refusals then speak of keys)."""
    return _through_api.get()


def set_current(address: str) -> None:
    """For a boundary that cannot wrap its work (a Reflex event authenticating its viewer):
    every event sets it afresh before any service runs for a user."""
    _current.set(address)
    _through_api.set(False)


def calling_from(address: str, *, api: bool = False) -> AbstractContextManager[None]:
    """Run a block as a use case for the client at `address` (`api`: through the REST API)."""
    return _CallingFrom(address, api)


class _CallingFrom:
    """`calling_from`'s block: a class, not a generator, as every request enters one."""

    __slots__ = ("_address", "_api", "_tokens")

    def __init__(self, address: str, api: bool) -> None:
        self._address, self._api = address, api

    def __enter__(self) -> None:
        self._tokens = (_current.set(self._address), _through_api.set(self._api))

    def __exit__(self, *_exc: object) -> None:
        token, api_token = self._tokens
        _current.reset(token)
        _through_api.reset(api_token)
