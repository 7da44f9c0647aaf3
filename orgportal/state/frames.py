"""The fast live path: one ready-made delta sent to many tabs at once, as Reflex would.

Reflex sends a page's changes as a `StateUpdate` on the socket's `event` message after a
state round trip (`app.modify_state`), one per tab. When many tabs of an organization show
the same values (the usage bars), building the delta once and writing one encoded packet to
all their sockets is much faster. That needs Reflex's internals, and this module
is the only one that uses them: `FIELD_MARKER` (the suffix of a var's name in a delta),
`StateUpdate` and `SocketEvent.EVENT` (the message), `EventNamespace.token_to_sid` (which
socket serves a tab), python-socketio's manager (is that socket on this worker, and its
engine.io session) and packet class, and engine.io's sockets (`send` queues the packet on
each socket's outgoing queue, which that socket's writer sends). tests/state/
test_reflex_internals.py fails, naming the internal, if an upgrade changes any of them.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from engineio import packet as eio_packet
from reflex.constants import SocketEvent
from reflex.constants.state import FIELD_MARKER
from reflex.state import StateUpdate
from socketio import packet as sio_packet


def delta(state_name: str, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The delta that sets `values` (var name → value, computed vars included) in the state
    of full name `state_name`, under the names the browser's store uses."""
    return {state_name: {name + FIELD_MARKER: value for name, value in values.items()}}


def sockets(app: Any, tokens: Iterable[str]) -> dict[str, str | None]:
    """Client token → its socket id if that socket is connected to this worker, else None
    (Redis may know the sockets of other workers)."""
    namespace = app.event_namespace
    if namespace is None:
        return dict.fromkeys(tokens)
    token_to_sid = namespace.token_to_sid
    is_connected = namespace.server.manager.is_connected
    found: dict[str, str | None] = {}
    for token in tokens:
        sid = token_to_sid.get(token)
        found[token] = sid if sid is not None and is_connected(sid, namespace.namespace) else None
    return found


def connected(app: Any, tokens: Iterable[str]) -> set[str]:
    """The tokens whose tab has a socket (on any worker Reflex knows of)."""
    token_to_sid = app.event_namespace.token_to_sid if app.event_namespace else {}
    return {token for token in tokens if token in token_to_sid}


async def send(app: Any, sids: list[str], frame: dict[str, dict[str, Any]]) -> int:
    """Send one delta (see `delta`) to these sockets of this worker, the message Reflex
    sends after a state round trip; returns to how many sockets (those that closed
    meanwhile are skipped).

    The packet is encoded once and put on each socket's outgoing queue, as python-socketio's
    `emit(to=[...])` does, but without its task and await per socket (at 2,000 sockets those
    were most of the push's cost): each socket's own writer sends it as soon as this
    coroutine yields. Packets already queued for a socket go first."""
    if not sids:
        return 0
    namespace = app.event_namespace
    server = namespace.server
    message = server.packet_class(
        sio_packet.EVENT,
        namespace=namespace.namespace,
        data=[str(SocketEvent.EVENT), StateUpdate(delta=frame)],
    ).encode()
    if not isinstance(message, str):  # binary attachments (never in a delta): python-socketio
        await namespace.emit(str(SocketEvent.EVENT), StateUpdate(delta=frame), to=sids)
        return len(sids)
    packet = eio_packet.Packet(eio_packet.MESSAGE, message)
    packet.encode()  # cached: every socket's writer sends the same string
    eio_sid, name, sockets = (
        server.manager.eio_sid_from_sid,
        namespace.namespace,
        server.eio.sockets,
    )
    sent = 0
    for sid in sids:
        socket = sockets.get(eio_sid(sid, name))
        if socket is not None and not socket.closed:
            socket.queue.put_nowait(packet)
            sent += 1
    return sent
