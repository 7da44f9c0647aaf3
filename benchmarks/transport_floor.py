"""The transport floor for live fan-out: a bare python-socketio server, nothing else.

Every socket that connects to the `/_event` namespace (the path and namespace Reflex uses,
so that benchmarks/ws_clients.py drives it exactly like orgportal) joins one room; a change
is one small frame emitted to that room. No state, no database, no Reflex: the cost of the
sockets alone, which is what orgportal's fast path (state/frames.py) is compared with in
`benchmarks/usage_live.py --transport`.

The server is python-socketio's `AsyncServer` (the version orgportal runs) with Reflex's
transport options (websocket only, no upgrades, handlers inline), served by granian with
`--workers` workers like `make run`. Its client manager is `socketio.AsyncRedisManager`
on REDIS_URL: the benchmark makes a change by emitting to the room from another process
with a write-only `socketio.RedisManager` (`emit_change` below), which every worker hears on
Redis and writes to its own sockets, as orgportal's workers hear the live bus.

    REDIS_URL=redis://127.0.0.1:6390/0 granian --interface asgi --port 3200 --workers 2 \
        transport_floor:app        (from benchmarks/)
"""

import os

import socketio

NAMESPACE = "/_event"
ROOM = "watchers"
CHANNEL = "transport-floor"
STATE = "transport_floor_state"  # the frame's shape is a Reflex delta of one var
VAR = "value"


def frame(value: int) -> dict:
    return {"delta": {STATE: {VAR + "_rx_state_": value}}}


def emit_change(manager: socketio.RedisManager, value: int) -> None:
    """From any process: every watcher of every worker receives `value`."""
    manager.emit("event", frame(value), namespace=NAMESPACE, room=ROOM)


def change_emitter(redis_url: str) -> socketio.RedisManager:
    return socketio.RedisManager(redis_url, channel=CHANNEL, write_only=True)


sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), channel=CHANNEL
    ),
    cors_allowed_origins="*",
    transports=["websocket"],
    allow_upgrades=False,
    async_handlers=False,
)


@sio.on("connect", namespace=NAMESPACE)
async def connect(sid: str, environ: dict, auth: object = None) -> None:
    await sio.enter_room(sid, ROOM, namespace=NAMESPACE)


async def ping(scope, receive, send) -> None:
    """`/ping` (and any other path): 200, so the benchmark knows the server is up."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"pong"})


app = socketio.ASGIApp(sio, other_asgi_app=ping, socketio_path="_event")
