"""The production server's worker supervision (SPEC §18).

`reflex run --env prod` serves the app with Granian: a main process that forks
GRANIAN_WORKERS backend workers. Granian's default (`respawn_failed_workers=False`) treats
one worker's unexpected exit (killed by the out-of-memory killer, a segfault, SIGKILL) as
the end of the whole server: it stops the other workers too and exits, so one lost worker
became a full outage. Reflex builds Granian's `Server` itself, with no way to pass the
option, so `respawn_failed_workers()` makes it the default before Reflex does: the other
workers keep serving, and Granian forks a replacement at once (and still gives up, as
designed, on a worker that keeps crashing within seconds of its start).

Called from rxconfig.py, which `reflex run` loads in the main process before it starts the
server; anywhere else (tests, scripts, Alembic) it only sets a default nobody uses.

`freeze_startup_objects` is each worker's last start-up step (a lifespan task).
"""

import gc
from typing import Any


def freeze_startup_objects() -> None:
    """Move what a worker made at start-up out of the garbage collector's sight.

    The app's pages, states, routes and libraries are ~300,000 objects that live as long as
    the worker, yet every full collection walked all of them, and the whole worker (its
    websocket events, redirects, API calls) stood still meanwhile: 150 ms a time with
    nothing else alive, over a second while tabs' states came and went
    (`benchmarks/gc_pauses.py`). `gc.freeze` leaves them out of every later collection;
    what they refer to is never collected anyway."""
    gc.collect()  # what start-up left as garbage goes first, rather than live forever
    gc.freeze()


def respawn_failed_workers() -> None:
    try:
        import granian.server as server
    except ImportError:  # uvicorn or gunicorn serve the app instead
        return
    base: Any = server.Server
    if getattr(base, "orgportal_respawns", False):
        return

    class RespawningServer(base):
        """Granian's server with failed workers replaced instead of the server stopped."""

        orgportal_respawns = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("respawn_failed_workers", True)
            super().__init__(*args, **kwargs)

    RespawningServer.__name__ = RespawningServer.__qualname__ = base.__name__
    server.Server = RespawningServer
