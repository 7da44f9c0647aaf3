"""A write-behind queue: the redirect appends a click and returns; a background thread
writes what has gathered every CLICK_FLUSH_SECONDS, in one transaction per batch.

Per process (each backend worker has its own). A batch that fails is put back once and
tried again in the next round; clicks still queued when the process exits are written by
an `atexit` flush. What is lost on a crash is at most one interval's clicks.
"""

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from orgportal.adapters import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PENDING = 100_000  # beyond this (the database down for long) new clicks are dropped


class BatchQueue(Generic[T]):
    def __init__(self, write: Callable[[list[T]], object], interval: float) -> None:
        self._write = write
        self._interval = interval
        self._pending: list[T] = []
        self._retry: list[T] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def put(self, item: T) -> None:
        with self._lock:
            if len(self._pending) < MAX_PENDING:
                self._pending.append(item)
            else:
                log.warning("click queue full: a click was not recorded")
            self._gauge()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="click-queue", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def flush(self) -> int:
        """Write everything queued now; returns how many items were written."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._retry + self._pending, []
                retried, self._retry = bool(self._retry), []
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception:
                if retried:
                    log.exception("could not record %d clicks; dropped after a retry", len(batch))
                else:
                    log.exception("could not record %d clicks; trying again", len(batch))
                    with self._lock:
                        self._retry = batch
                return 0
            finally:
                with self._lock:
                    self._gauge()
            return len(batch)

    def depth(self) -> int:
        """Items queued and not written yet (retries included)."""
        return len(self._pending) + len(self._retry)

    def _gauge(self) -> None:
        """The click-queue depth metric (SPEC §18); called holding the lock."""
        metrics.CLICK_QUEUE_DEPTH.set(self.depth())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        self.flush()
