"""Event handlers' work off the worker's event loop.

Reflex calls a plain (synchronous) event handler on the event loop itself: while it runs,
nothing else this worker serves moves (other tabs' events, live pushes, short-link
redirects, REST calls). orgportal's handlers run a use case: a transaction, and sometimes a
call to Stripe or the mail server that can take seconds when they are slow. So every plain
handler of a state is wrapped into an `async` one that runs it in `POOL`, a thread pool of
its own (the default executor's handful of threads would queue page loads behind a slow
Stripe call), and page loads run their transaction there too.

That is safe because an event holds its tab's state lock until the handler returns:
nothing else touches the tab's states meanwhile. The services are the ones the REST API
already calls from Starlette's threads. The thread runs in a copy of the event's context, so
its log fields (a shared dict) and client address reach it.

Only Reflex's own call of the handler (an event) goes through the thread; the method
called on a state instance (`state.send_invite(form)`: other code of the state, the tests)
is still the plain function, run where it is called.
"""

import asyncio
import contextvars
import functools
import inspect
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from reflex.event import EventHandler

T = TypeVar("T")

# At most this many events of one worker run their use case at once; more wait for a
# thread. The database pool of a worker is 15 connections (SQLAlchemy's 5 + 10 overflow).
POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="event")


async def in_thread(work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`work(*args, **kwargs)` in `POOL`, in a copy of the caller's context."""
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(POOL, call)


def off_the_loop(handler: Callable) -> Callable:
    """`handler` as an async event handler running it in `POOL`; handlers that are async
    already (they await the loop themselves), generators (Reflex sends each yielded
    update as it comes) and functions Reflex itself made (the `set_…` setters, which only
    assign a var) are left as they are."""
    if (
        not inspect.isfunction(handler)
        or inspect.iscoroutinefunction(handler)
        or inspect.isgeneratorfunction(handler)
        or inspect.isasyncgenfunction(handler)
        or not handler.__module__.startswith("orgportal.")
    ):
        return handler

    @functools.wraps(handler)  # Reflex reads the wrapped signature and type hints
    async def run_in_thread(state: Any, *args: Any, **kwargs: Any) -> Any:
        return await in_thread(handler, state, *args, **kwargs)

    return run_in_thread


class ThreadedEventHandler(EventHandler):
    """An event handler whose `fn` is `off_the_loop`'s wrapper: Reflex awaits it as an
    event; on a state instance the attribute is the plain method (see the module)."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        bound = super().__get__(instance, owner)
        if isinstance(bound, types.MethodType) and bound.__func__ is self.fn:
            return types.MethodType(self.fn.__wrapped__, bound.__self__)
        return bound


def event_handler(
    create: Callable[..., EventHandler], fn: Any, handler_class: type[EventHandler]
) -> EventHandler:
    """`create(fn, handler_class)` (Reflex's `_create_event_handler`), with a plain handler
    of orgportal's made a `ThreadedEventHandler` running off the loop."""
    threaded = off_the_loop(fn)
    if threaded is fn or handler_class is not EventHandler:
        return create(fn, handler_class)
    return create(threaded, ThreadedEventHandler)
