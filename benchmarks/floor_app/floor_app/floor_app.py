"""The framework's floor for live bars: the least a Reflex app can do.

One state var. Each page registers its client token on load; each message on the Redis
channel `floor:changes` sets that var in every registered page with `app.modify_state`,
all at once (`asyncio.gather`), which is the per-token push orgportal's usage bars used to
make. `benchmarks/usage_live.py --floor` drives it exactly like orgportal's /organization.

Two more pages, /start and /next, are the floor of a page change (see
`benchmarks/navigation.py`): each shows its heading once its own load event has run, like
orgportal's pages, and /start goes to /next three ways: a link (a client-side route
change), a button whose event returns `rx.redirect` (the same, one event later), and a
button that loads the page anew (`window.location.assign`).

/bare is the floor of a page load (`benchmarks/page_load.py`): one state var, filled by the
page's load event, and the same hydration marker as orgportal's pages
(`orgportal/components/hydration.py`, copied here: this app is built on its own).
"""

import asyncio
import os

import redis.asyncio as aioredis
import reflex as rx
from reflex.vars.base import Var

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
    """Lifespan task: one subscription per worker, like orgportal's live bus (none without
    REDIS_URL: the navigation pages need no bus)."""
    if not os.environ.get("REDIS_URL"):
        return
    client = aioredis.from_url(os.environ["REDIS_URL"])
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] == "message":
            await push(int(message["data"]))


class NavState(rx.State):
    """Which page's load event ran last: a page shows its heading only after its own load."""

    shown: str = ""

    @rx.event
    def load_start(self):
        self.shown = "start"

    @rx.event
    def load_next(self):
        self.shown = "next"

    @rx.event
    def go_next(self):
        return rx.redirect("/next")


def start() -> rx.Component:
    return rx.el.main(
        rx.cond(NavState.shown == "start", rx.heading("Start page", as_="h1")),
        rx.link("Next page", href="/next"),
        rx.button("Next by event", on_click=NavState.go_next),
        rx.button("Next by full load", on_click=rx.call_script("window.location.assign('/next')")),
    )


def next_page() -> rx.Component:
    return rx.el.main(
        rx.cond(NavState.shown == "next", rx.heading("Next page", as_="h1")),
        rx.link("Start page", href="/start"),
    )


class BareState(rx.State):
    """The one state var of the bare page, set by its load event (its "first data")."""

    greeting: str = ""

    @rx.event
    def load(self):
        self.greeting = "Hello"


def bare() -> rx.Component:
    return rx.el.main(rx.el.p(BareState.greeting, id="bare-data"))


class HydrationMarker(rx.Fragment):
    """The same as orgportal's (`orgportal/components/hydration.py`): `<html
    data-hydrated>` once React has hydrated the page, `data-loaded` = `is_hydrated`."""

    def add_imports(self) -> dict:
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list:
        loaded = rx.State.is_hydrated
        return [
            "useEffect(() => { document.documentElement.dataset.hydrated = 'true';"
            " window.dispatchEvent(new Event('app-hydrated')); }, []);",
            Var(
                _js_expr=f"useEffect(() => {{ document.documentElement.dataset.loaded ="
                f" String(!!{loaded!s}); }}, [{loaded!s}])",
                _var_data=loaded._get_all_var_data(),
            ),
        ]


@rx.memo
def _marker() -> rx.Component:
    return HydrationMarker.create()


app = rx.App(extra_app_wraps={(3, "HydrationMarker"): lambda stateful: rx.fragment(_marker())})
app.add_page(index, route="/", on_load=FloorState.on_load)
app.add_page(start, route="/start", on_load=NavState.load_start)
app.add_page(next_page, route="/next", on_load=NavState.load_next)
app.add_page(bare, route="/bare", on_load=BareState.load)
app.register_lifespan_task(listen)
