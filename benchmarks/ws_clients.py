"""Many cheap Socket.IO watchers in one process: the client side of benchmarks/usage_live.py.

A python-socketio `AsyncClient` costs a few tasks and a full packet decode per frame; at
2,000 sockets on a 2-core machine the clients, not the server, would be measured. Here each
watcher is a bare `asyncio.Protocol` that speaks just enough WebSocket (RFC 6455: client
frames masked with a zero key, server frames unmasked, fragments joined, pings answered) and
Engine.IO 4 / Socket.IO 5 (open, namespace connect with an `auth` payload, ping → pong,
event): a frame is matched with a regular expression on the watched var, and decoded as
JSON only when that matches, to check the state's name. The time a value arrives is
`time.monotonic()` in `data_received` (CLOCK_MONOTONIC, the same clock in every process of
the machine), so the parent can compare it with the moment it made the change.

The parent runs several of these processes (`Clients` in usage_live.py) and talks to each
over stdin/stdout, one JSON object a line:

- out `{"ready": n}` once all n sockets are connected to the namespace (with `--loaded`,
  once each page's load events have run: Reflex sets `is_hydrated` after the last; with
  `--initial`, once each has received that value of the var);
- out `{"value": v, "times": [...]}` once every socket has received value v (arrival times,
  one per socket);
- out `{"error": "..."}` if a socket is refused or closed;
- in: end of input (or `quit`): close every socket and exit.

    python benchmarks/ws_clients.py --port 3000 --count 1000 --path /organization/ \
        --cookie 'orgportal_session=...' --state usage_state --var links_used --initial 0
"""

import argparse
import asyncio
import json
import re
import sys
import time
import uuid

NAMESPACE = "/_event"
HYDRATE = "reflex___state____state.hydrate_and_load"
EVENT_PREFIX = b"42" + NAMESPACE.encode() + b","
CONNECTED_PREFIX = b"40" + NAMESPACE.encode() + b","
ERROR_PREFIX = b"44" + NAMESPACE.encode()


def text_frame(payload: bytes) -> bytes:
    """A masked client text frame (mask key 0: the payload goes as it is)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


PONG = text_frame(b"3")


class Watcher(asyncio.Protocol):
    def __init__(self, group: "Group") -> None:
        self.group = group
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments = bytearray()
        self.connected = False
        self.loaded = not group.loaded_marker  # the page's load events have all run
        self.seen: dict[int, float] = {}
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(self.group.request())

    def connection_lost(self, exc) -> None:
        if not self.group.closing:
            self.group.fail(f"socket closed: {exc}")

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status:
                self.group.fail(f"upgrade refused: {status!r}")
                return
            del buffer[: end + 4]
            self.upgraded = True
        while len(buffer) >= 2:
            first, length = buffer[0], buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            opcode = first & 0x0F
            if opcode == 0x9:  # ping: pong with the same payload
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
            elif opcode in (0x0, 0x1, 0x2):
                self.fragments += payload
                if first & 0x80:
                    message, self.fragments = bytes(self.fragments), bytearray()
                    self.message(message, now)
            elif opcode == 0x8:
                self.group.fail("server closed the websocket")

    def message(self, message: bytes, now: float) -> None:
        group = self.group
        if message.startswith(EVENT_PREFIX):
            if not self.loaded and group.loaded_marker in message:
                self.loaded = True
                group.progress()
            found = group.pattern.search(message)
            if found is None:
                return
            value = int(found.group(1))
            if value in self.seen or not group.is_watched(message):
                return
            self.seen[value] = now
            group.arrived(value)
        elif message == b"2":  # Engine.IO ping
            self.transport.write(PONG)
        elif message.startswith(b"0"):  # Engine.IO open: connect to the namespace
            self.transport.write(text_frame(group.connect_packet()))
        elif message.startswith(CONNECTED_PREFIX):
            self.connected = True
            group.progress()
        elif message.startswith(ERROR_PREFIX):
            group.fail(f"namespace connect refused: {message[:200]!r}")


class Group:
    """This process's watchers, and what it tells the parent."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state = args.state
        self.pattern = re.compile(rb'"' + re.escape(args.var.encode()) + rb'_rx_state_":(-?\d+)')
        self.loaded_marker = b'"is_hydrated_rx_state_":true' if args.loaded else b""
        self.watchers: list[Watcher] = []
        self.counts: dict[int, int] = {}
        self.closing = False
        self.wave_done: asyncio.Event | None = None
        self.failed = False

    def request(self) -> bytes:
        args = self.args
        lines = [
            f"GET {NAMESPACE}/?EIO=4&transport=websocket&token={uuid.uuid4()} HTTP/1.1",
            f"Host: {args.host}:{args.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://{args.origin_host}:{args.port}",
        ]
        if args.cookie:
            lines.append(f"Cookie: {args.cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def connect_packet(self) -> bytes:
        path = self.args.path
        auth = {
            "event": {
                "name": HYDRATE,
                "payload": {},
                "router_data": {"pathname": path, "asPath": path, "query": {}},
            }
        }
        return b"40" + NAMESPACE.encode() + b"," + json.dumps(auth).encode()

    def is_watched(self, message: bytes) -> bool:
        """The var belongs to the watched state (the frame is decoded only here)."""
        try:
            _, data = json.loads(message[len(EVENT_PREFIX) :])
        except ValueError:
            return False
        var = self.args.var + "_rx_state_"
        return any(
            name.endswith(self.state) and var in values
            for name, values in (data.get("delta") or {}).items()
        )

    def arrived(self, value: int) -> None:
        count = self.counts.get(value, 0) + 1
        self.counts[value] = count
        if value == self.args.initial:
            self.progress()
        elif count == len(self.watchers) and not self.closing:
            times = [w.seen[value] for w in self.watchers]
            say({"value": value, "times": times})

    def progress(self) -> None:
        if self.wave_done is not None and all(self.ready(w) for w in self.pending):
            self.wave_done.set()

    def ready(self, watcher: Watcher) -> bool:
        initial = self.args.initial
        return watcher.connected and watcher.loaded and (initial is None or initial in watcher.seen)

    def fail(self, why: str) -> None:
        if not self.failed:
            self.failed = True
            say({"error": why})

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        args = self.args
        for start in range(0, args.count, args.wave):
            self.pending: list[Watcher] = []
            self.wave_done = asyncio.Event()
            for _ in range(min(args.wave, args.count - start)):
                _, watcher = await loop.create_connection(
                    lambda: Watcher(self), args.host, args.port
                )
                self.watchers.append(watcher)
                self.pending.append(watcher)
            self.progress()
            await asyncio.wait_for(self.wave_done.wait(), 120)
        self.wave_done = None
        say({"ready": len(self.watchers)})

    def close(self) -> None:
        self.closing = True
        for watcher in self.watchers:
            if watcher.transport is not None:
                watcher.transport.close()


def say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--origin-host", default="localhost")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--wave", type=int, default=25, help="sockets connecting at once")
    parser.add_argument("--path", default="/")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--state", required=True, help="the state's name ends with this")
    parser.add_argument("--var", required=True)
    parser.add_argument("--initial", type=int, default=None, help="wait for this value first")
    parser.add_argument(
        "--loaded", action="store_true", help="wait for each page's load (Reflex's is_hydrated)"
    )
    group = Group(parser.parse_args())
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        await group.connect()
    except Exception as exc:  # noqa: BLE001  (reported to the parent, which stops)
        group.fail(f"connecting: {type(exc).__name__}: {exc}")
    while (line := await stdin.readline()) and line.strip() != b"quit":
        pass
    group.close()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main())
