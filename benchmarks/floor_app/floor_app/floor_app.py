"""The framework's floor for live bars (issue 16, target 4): the least a Reflex app can do.

One state var. Each page registers its client token on load; each message on the Redis
channel `floor:changes` sets that var in every registered page with `app.modify_state`,
all at once (`asyncio.gather`), which is the per-token push orgportal's usage bars used to
make. `benchmarks/usage_live.py --floor` drives it exactly like orgportal's /organization.
"""

import asyncio
import os

import redis.asyncio as aioredis
import reflex as rx

CHANNEL = "floor:changes"
WATCHERS: set[str] = set()  # client tokens of the open pages (this worker)


class FloorState(rx.State):
    value: int = 0

    @rx.event
    def on_load(self):
        WATCHERS.add(self.router.session.client_token)


def index() -> rx.Component:
    return rx.el.div(FloorState.value, id="value")


async def push(value: int) -> None:
    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in WATCHERS if t not in connected]:
        WATCHERS.discard(token)

    async def one(token: str) -> None:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=FloorState)) as root:
            (await root.get_state(FloorState)).value = value

    await asyncio.gather(*(one(t) for t in list(WATCHERS)), return_exceptions=True)


async def listen() -> None:
    """Lifespan task: one subscription per worker, like orgportal's live bus."""
    client = aioredis.from_url(os.environ["REDIS_URL"])
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] == "message":
            await push(int(message["data"]))


app = rx.App()
app.add_page(index, route="/", on_load=FloorState.on_load)
app.register_lifespan_task(listen)
