"""The Reflex internals the live updates rely on: a contract with the framework.

`state/frames.py` sends the usage bars to many tabs as one ready-made delta, the message
Reflex itself sends after a state round trip, without that round trip. It builds
that message from Reflex's internals, and `state/live.py`'s `drop_connections` closes
sockets through python-socketio/engine.io's. If a Reflex upgrade changes any of them, these
tests fail with a message that names the internal: then adapt `state/frames.py` (or give up
the fast path for `app.modify_state`), not this test.
"""

import asyncio
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest
import socketio
from reflex.state import State

from orgportal.services.plans import FREE
from orgportal.services.usage import OrganizationUsage, Usage
from orgportal.state import frames, usage_bars
from orgportal.state.usage import UsageState


def broken(internal: str, what: str) -> str:
    return (
        f"Reflex internal changed: {internal}: {what}. orgportal/state/frames.py (the live "
        "push's ready-made frames) relies on it; adapt that module to the new Reflex."
    )


def find(dotted: str):
    """`module.attr.attr…`, or a failure naming it."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(found, name):
                pytest.fail(broken(dotted, f"{name!r} no longer exists"))
            found = getattr(found, name)
        return found
    pytest.fail(broken(dotted, "its module no longer exists"))


def parameters(dotted: str) -> list[str]:
    return list(inspect.signature(find(dotted)).parameters)


def needs(dotted: str, *names: str) -> None:
    present = parameters(dotted)
    missing = [name for name in names if name not in present]
    assert not missing, broken(dotted, f"no parameter {missing} (now {present})")


@pytest.mark.parametrize(
    "dotted",
    [
        "reflex.constants.state.FIELD_MARKER",
        "reflex.constants.SocketEvent.EVENT",
        "reflex.state.StateUpdate",
        "reflex.app.EventNamespace.token_to_sid",
        "reflex.app.EventNamespace.emit",
        "reflex.app.EventNamespace.emit_update",
        "reflex.app.App.modify_state",
        "reflex.BaseStateToken",
        "socketio.base_manager.BaseManager.is_connected",
        "socketio.base_manager.BaseManager.eio_sid_from_sid",
        "socketio.packet.Packet.encode",
        "engineio.packet.Packet.encode",
        "engineio.async_socket.AsyncSocket.close",
        "engineio.async_socket.AsyncSocket.poll",
    ],
)
def test_the_internals_exist(dotted):
    find(dotted)


def test_their_signatures_and_fields_are_as_used():
    marker = find("reflex.constants.state.FIELD_MARKER")
    assert isinstance(marker, str) and marker, broken("FIELD_MARKER", f"now {marker!r}")
    update = find("reflex.state.StateUpdate")
    fields = [field.name for field in dataclasses.fields(update)]
    assert "delta" in fields, broken("reflex.state.StateUpdate", f"no `delta` (now {fields})")
    assert isinstance(find("reflex.app.EventNamespace.token_to_sid"), property), broken(
        "reflex.app.EventNamespace.token_to_sid", "no longer a property (token → socket id)"
    )
    needs("reflex.app.EventNamespace.emit", "event", "data", "to")
    needs("reflex.app.EventNamespace.emit_update", "update", "token")
    needs("reflex.app.App.modify_state", "token")
    needs("socketio.base_manager.BaseManager.is_connected", "sid", "namespace")
    needs("engineio.async_socket.AsyncSocket.close", "wait", "abort")  # drop_connections
    needs("socketio.base_manager.BaseManager.eio_sid_from_sid", "sid", "namespace")
    token = find("reflex.BaseStateToken")(ident="tab", cls=UsageState)
    assert token.ident == "tab", broken("rx.BaseStateToken", "ident/cls arguments")


VIEW = OrganizationUsage(FREE, Usage(links=45, storage_bytes=1536), members=2, seat_limit=3)


def reflex_delta() -> tuple[str, dict]:
    """What Reflex's own state round trip puts in the delta when the bars change."""
    name = UsageState.get_full_name()
    root = State(_reflex_internal_init=True)
    state = root.get_substate(name.split(".")[1:])
    root._clean()
    state._show(VIEW)
    return name, root.get_delta()[name]


def test_a_delta_names_its_vars_as_reflex_does():
    name, expected = reflex_delta()
    marker = find("reflex.constants.state.FIELD_MARKER")
    values = {key.removesuffix(marker): value for key, value in expected.items()}

    assert frames.delta(name, values) == {name: expected}, broken(
        "FIELD_MARKER", "a delta's var names are no longer `name + FIELD_MARKER`"
    )


def test_a_frame_is_the_packet_reflex_sends_and_its_client_reads():
    """One socket connected to the app's real Socket.IO server: the packet `frames.send`
    queues on it is the very packet Reflex queues for the same delta after a state round
    trip (`EventNamespace.emit_update`), on the same engine.io queue its writer sends from,
    and Reflex's browser client reads it (it listens to that event and dispatches
    `update.delta` by state name)."""
    from engineio.async_socket import AsyncSocket

    from orgportal.orgportal import app

    namespace, server = app.event_namespace, app.sio
    name, expected = reflex_delta()
    ours = usage_bars.frame(name, usage_bars.organization_values(VIEW), can_upgrade=False)

    async def run() -> tuple[list, dict[str, str | None], int]:
        socket = AsyncSocket(server.eio, "eio-contract")
        server.eio.sockets["eio-contract"] = socket
        sid = await server.manager.connect("eio-contract", namespace.namespace)
        await namespace.link_token_to_sid(sid, "contract-tab", update_state=False)
        try:
            found = frames.sockets(app, ["contract-tab", "no-such-tab"])
            assert found == {"contract-tab": sid, "no-such-tab": None}, broken(
                "EventNamespace.token_to_sid / manager.is_connected", f"found {found}"
            )
            assert await frames.send(app, [sid, "no-such-sid"], ours) == 1
            update = find("reflex.state.StateUpdate")(delta={name: expected})
            await namespace.emit_update(update, "contract-tab")
            await asyncio.sleep(0.05)  # python-socketio queues from tasks
            written = await socket.poll()  # what the socket's writer sends, in order
            socket.closed = True
            skipped = await frames.send(app, [sid], ours)  # a socket closing meanwhile
        finally:
            server.eio.sockets.pop("eio-contract", None)
            await namespace._token_manager.disconnect_token("contract-tab", sid)
            await server.manager.disconnect(sid, namespace.namespace)
        return written, frames.sockets(app, ["contract-tab"]), skipped

    written, after, skipped = asyncio.run(run())

    assert after == {"contract-tab": None}
    assert skipped == 0, "a closed socket is sent nothing"
    assert len(written) == 2, broken("EventNamespace.emit / emit_update", f"sent {written}")
    encoded = [pkt.encode() for pkt in written]
    assert all(e.startswith("4") for e in encoded), broken("engine.io MESSAGE", f"{encoded}")
    ours_sent, reflex_sent = (socketio.packet.Packet(encoded_packet=e[1:]) for e in encoded)
    # the same packet (its JSON may list the vars in another order: the same object)
    assert (ours_sent.packet_type, ours_sent.namespace, ours_sent.data) == (
        reflex_sent.packet_type,
        reflex_sent.namespace,
        reflex_sent.data,
    ), broken("StateUpdate / SocketEvent.EVENT", f"ours {encoded[0]!r}, Reflex's {encoded[1]!r}")
    event, payload = ours_sent.data
    assert ours_sent.namespace == namespace.namespace
    assert payload == {"delta": {name: expected}}, broken("StateUpdate", f"sent {payload}")
    client = _reflex_client()
    assert f'socket.current.on("{event}"' in client and "update.delta" in client, broken(
        "Reflex's browser client (state.js)", f"no longer reads `update.delta` on {event!r}"
    )


def test_one_frame_to_many_sockets_is_encoded_once():
    """`frames.send` to many sockets queues the same encoded packet on each, at once (no
    task per socket): what makes a push to 2,000 tabs cost little more than the sockets."""
    from engineio.async_socket import AsyncSocket

    from orgportal.orgportal import app

    namespace, server = app.event_namespace, app.sio
    name, _ = reflex_delta()
    frame = usage_bars.frame(name, usage_bars.organization_values(VIEW), can_upgrade=True)

    async def run() -> list:
        sockets, sids = [], []
        for n in range(50):
            socket = AsyncSocket(server.eio, f"eio-many-{n}")
            server.eio.sockets[socket.sid] = socket
            sockets.append(socket)
            sids.append(await server.manager.connect(socket.sid, namespace.namespace))
        try:
            before = len(asyncio.all_tasks())
            assert await frames.send(app, sids, frame) == 50
            assert len(asyncio.all_tasks()) == before, "no task per socket"
            return [socket.queue.get_nowait() for socket in sockets]
        finally:
            for socket, sid in zip(sockets, sids, strict=True):
                server.eio.sockets.pop(socket.sid, None)
                await server.manager.disconnect(sid, namespace.namespace)

    queued = asyncio.run(run())

    packets = queued
    assert all(p is packets[0] for p in packets), "one packet object, encoded once"
    data = socketio.packet.Packet(encoded_packet=packets[0].encode()[1:]).data
    assert data[1] == {"delta": frame}


def _reflex_client() -> str:
    """Reflex's browser-side state handling, as shipped (the template the app compiles)."""
    candidates = []
    for package in ("reflex_base", "reflex"):
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        candidates.append(Path(module.__file__).parent / ".templates/web/utils/state.js")
    for path in candidates:
        if path.is_file():
            return path.read_text()
    pytest.fail(broken("Reflex's browser client", f"state.js not found in {candidates}"))
