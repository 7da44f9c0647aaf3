"""A write-behind queue whose writer is a process of its own (the click writer, SPEC §14).

Why a process: writing a batch of clicks (parsing each User-Agent and Referer, building ~10
rows a click, the driver's work) is CPU spent holding the GIL. As a thread of the backend
worker it made the event loop wait for the GIL each time the loop let go of it (every socket
send, every `epoll`): queued recording cost ~40 % of the redirect rate and most of its tail.

The worker's side (`ProcessQueue`): `put` appends an item to a list, all a redirect pays. A
thread of the worker wakes every `interval`, pickles what gathered and sends it as one
numbered batch down the writer's stdin (one `write` when it fits the pipe). The writer
(`python -m orgportal.adapters.batch_process MODULE:FUNCTION`, started with `subprocess`, so
nothing of the worker's threads, event loop or database connections is inherited) reads the
batches, writes all that are waiting in one call of the function (one transaction), and
answers each batch's number with the live-bus changes the write made. The worker's reader
thread then announces them (`announce`: this worker's caches, then the live bus), as
`db.unit_of_work` does after its own commits: a writer hears no in-process bus.

What can be lost:
- nothing on a clean stop (`stop`: the last items are sent, the writer's stdin closed; it
  writes what it holds, answers and exits; the worker waits for it);
- a worker killed outright loses only what it had not sent yet, at most one interval of its
  own items. The writer reads the end of its stdin, writes every batch it had received and
  exits (it ignores SIGINT and SIGTERM: it stops when its worker is gone, never before);
- a writer that dies (killed, out of memory) is started again at once and the batches it had
  not answered are sent again, marked so that items already stored are skipped (the function
  gets `resent=True`): none is lost or written twice. Each restart is logged and counted
  (`orgportal_click_writer_restarts`). A writer that cannot be started, or dies RESTARTS
  times within a minute, is given up: the worker writes the batches itself, in this thread,
  as before (logged as an error).
A batch whose write fails (the database down) is tried again once after `interval`, then
dropped with the error logged, as the in-process queue did.
"""

import atexit
import contextlib
import importlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from orgportal.adapters import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PENDING = 100_000  # beyond this (the database down for long) new items are dropped
RESTARTS = 3  # writer deaths within RESTART_WINDOW seconds before the worker writes itself
RESTART_WINDOW = 60.0
STOP_TIMEOUT = 60.0  # seconds a stopping worker waits for its writer's last answers
_HEADER = struct.Struct(">I")  # the length of the pickle that follows
_PIPE_BYTES = 1 << 20  # the writer's stdin pipe, when Linux allows (F_SETPIPE_SZ)
# The writer's niceness: when the cores are busy, the worker's event loop (a visitor waits
# on it) gets them before the writer (nobody waits on it: its backlog only makes its next
# transaction bigger, which costs less per click).
WRITER_NICE = 10
Write = Callable[[list[Any], bool], Iterable[Any]]  # (items, resent) -> changes to announce


def resolve(target: str) -> Write:
    """`module:function` -> the function."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class ProcessQueue(Generic[T]):
    """Items queued in this process, written by a child process in batches (module doc)."""

    def __init__(
        self,
        target: str,
        interval: float,
        announce: Callable[[set[Any]], object],
        env: Callable[[], dict[str, str]] = dict,
    ) -> None:
        self._target = target  # `module:function(items, resent) -> changes`, run by the writer
        self._interval = interval
        self._announce = announce
        self._env = env  # environment the writer gets on top of this process's
        self._pending: list[T] = []
        self._unanswered: dict[int, list[T]] = {}  # sent, not answered yet, by batch number
        self._in_flight = 0  # items in _unanswered
        self._written_total = 0  # items the writer (or this worker) answered as written
        self._number = 0
        self._lock = threading.Condition()  # _pending, _unanswered; notified on answers
        self._sending = threading.Lock()  # one send, restart or own write at a time
        self._child: subprocess.Popen | None = None
        self._deaths: list[float] = []
        self._own_write: Write | None = None  # set when the writer was given up
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- the worker's side ------------------------------------------------------------------

    def put(self, item: T) -> None:
        with self._lock:
            if len(self._pending) + self._unanswered_items() < MAX_PENDING:
                self._pending.append(item)
            else:
                log.warning("click queue full: a click was not recorded")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="click-queue", daemon=True)
                self._thread.start()
                atexit.register(self.stop)

    def flush(self) -> int:
        """Send what is queued now and wait until the writer answered every batch sent;
        returns how many items were written meanwhile (tests, shutdown)."""
        with self._lock:
            before = self._written_total
        self._send_pending()
        with self._lock:
            self._lock.wait_for(lambda: not self._unanswered, timeout=STOP_TIMEOUT)
            return self._written_total - before

    def depth(self) -> int:
        """Items queued and not written yet (sent to the writer and not answered included)."""
        with self._lock:
            return len(self._pending) + self._unanswered_items()

    def stop(self) -> None:
        """Write everything queued and let the writer go (the worker is stopping)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=STOP_TIMEOUT)
        self._send_pending()
        with self._sending:
            child = self._child
            if child is not None and child.stdin is not None:
                child.stdin.close()  # the writer writes what it holds, answers and exits
        with self._lock:
            self._lock.wait_for(lambda: not self._unanswered, timeout=STOP_TIMEOUT)
            if self._unanswered:
                log.error("click writer: %d clicks unanswered at stop", self._unanswered_items())
        if child is not None:
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.error("click writer %d did not exit; killed", child.pid)
                child.kill()

    def writer_pid(self) -> int | None:
        """The writer process's id (tests, diagnostics); None before the first item or once
        the worker writes itself."""
        child = self._child
        return child.pid if child is not None and self._own_write is None else None

    def _unanswered_items(self) -> int:
        return self._in_flight

    def _answered(self, number: int) -> None:
        """Batch `number` was answered; called holding the lock."""
        batch = self._unanswered.pop(number, None)
        if batch is not None:
            self._in_flight -= len(batch)

    def _gauge(self) -> None:
        """The click-queue depth metric (SPEC §18), set as each batch is sent and answered
        (not by `put`: a redirect pays nothing for it); called holding the lock."""
        metrics.CLICK_QUEUE_DEPTH.set(len(self._pending) + self._unanswered_items())

    def _run(self) -> None:
        with self._sending:
            if self._child is None and self._own_write is None:
                self._start()
        while not self._stopping.wait(self._interval):
            self._send_pending()

    def _send_pending(self) -> None:
        with self._sending:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    return
                self._number += 1
                number = self._number
                self._unanswered[number] = batch
                self._in_flight += len(batch)
                self._gauge()
            if self._own_write is not None:
                self._write_here(number, batch, resent=False)
            elif self._child is None:
                self._start()  # resends what is unanswered, this batch included
            else:
                self._send(number, batch, resent=False)

    def _send(self, number: int, batch: list[T], resent: bool) -> None:
        """One batch down the writer's stdin; called holding `_sending`. A writer that died
        is noticed by its reader thread, which starts another and sends this batch again."""
        data = pickle.dumps((number, resent, batch), protocol=pickle.HIGHEST_PROTOCOL)
        child = self._child
        assert child is not None and child.stdin is not None
        # a dead writer (EPIPE) or a closed stdin: its reader thread takes over
        with contextlib.suppress(OSError, ValueError):
            _write_all(child.stdin.fileno(), _HEADER.pack(len(data)) + data)

    def _start(self) -> None:
        """Start a writer and send it every unanswered batch; called holding `_sending`.
        Gives the writer up (this worker writes) when it cannot be started."""
        env = {**os.environ, **self._env()}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # its metrics are not the worker's
        root = str(Path(__file__).resolve().parents[2])  # this checkout's `orgportal`
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", __name__, self._target, str(self._interval)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                cwd=root,
            )
        except OSError:
            log.exception("click writer could not be started: this worker writes its clicks")
            self._give_up()
            return
        assert child.stdin is not None
        with contextlib.suppress(ImportError, OSError):
            import fcntl

            fcntl.fcntl(child.stdin.fileno(), 1031, _PIPE_BYTES)  # F_SETPIPE_SZ
        self._child = child
        threading.Thread(
            target=self._read_answers, args=(child,), name="click-writer-answers", daemon=True
        ).start()
        with self._lock:
            unanswered = sorted(self._unanswered.items())
        for number, batch in unanswered:
            self._send(number, batch, resent=True)

    def _read_answers(self, child: subprocess.Popen) -> None:
        assert child.stdout is not None
        fd = child.stdout.fileno()
        while (answer := _read_message(fd)) is not None:
            numbers, written, changes = answer
            with self._lock:
                for number in numbers:
                    self._answered(number)
                self._written_total += written
                self._gauge()
                self._lock.notify_all()
            if changes:
                try:
                    self._announce(changes)
                except Exception:
                    log.exception("click writer: could not announce %s", changes)
        code = child.wait()
        with self._sending:
            if self._child is not child:
                return
            with self._lock:
                lost = self._unanswered_items()
            if self._stopping.is_set() and child.stdin is not None and child.stdin.closed:
                if lost:  # it died while writing its last batches: this worker writes them
                    log.error(
                        "click writer exited (%s) at stop; %d clicks written here", code, lost
                    )
                    self._give_up()
                return
            now = time.monotonic()
            self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW] + [now]
            metrics.CLICK_WRITER_RESTARTS.inc()
            if len(self._deaths) > RESTARTS:
                log.error(
                    "click writer died %d times within %d s (exit %s): this worker writes "
                    "its clicks itself from now on (%d waiting)",
                    len(self._deaths), RESTART_WINDOW, code, lost,
                )  # fmt: skip
                self._give_up()
                return
            log.error("click writer exited (%s): started again, %d clicks sent again", code, lost)
            self._start()

    def _give_up(self) -> None:
        """From now on this worker writes its batches itself (in the queue's thread), the
        unanswered ones first; called holding `_sending`."""
        self._child = None
        self._own_write = resolve(self._target)
        with self._lock:
            unanswered = sorted(self._unanswered.items())
        for number, batch in unanswered:
            self._write_here(number, batch, resent=True)

    def _write_here(self, number: int, batch: list[T], resent: bool) -> None:
        assert self._own_write is not None
        changes = _write_with_retry(self._own_write, batch, resent, self._interval)
        with self._lock:
            self._answered(number)
            self._written_total += len(batch) if changes is not None else 0
            self._gauge()
            self._lock.notify_all()
        if changes:
            self._announce(set(changes))


def _write_with_retry(write: Write, items: list, resent: bool, interval: float) -> set | None:
    """`write(items, resent)`, tried again once after `interval` (marked resent: the first
    try may have committed before failing); the changes, or None when both failed."""
    try:
        return set(write(items, resent))
    except Exception:
        log.exception("could not record %d clicks; trying again", len(items))
    time.sleep(interval)
    try:
        return set(write(items, True))
    except Exception:
        log.exception("could not record %d clicks; dropped after a retry", len(items))
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _read_message(fd: int) -> Any | None:
    """The next pickled message on `fd`; None at its end."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    data = _read_exactly(fd, _HEADER.unpack(header)[0])
    return None if data is None else pickle.loads(data)


# --- the writer process --------------------------------------------------------------------


def serve(target: str, interval: float) -> None:
    """The writer: batches from stdin, answers on stdout, until stdin ends (module doc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal: the worker stops us
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICE)
    answers = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to stderr, never into the answers
    logging.basicConfig(
        level=logging.INFO, format=f"click writer {os.getpid()}: %(levelname)s %(message)s"
    )
    write = resolve(target)
    parent_gone = False
    while (first := _read_message(0)) is not None:
        batches, ended = [first], False
        while select.select([0], [], [], 0)[0]:  # every batch already waiting: one write
            message = _read_message(0)
            if message is None:
                ended = True
                break
            batches.append(message)
        items = [item for _, _, batch in batches for item in batch]
        resent = any(resent for _, resent, _ in batches)
        changes = _write_with_retry(write, items, resent, interval)
        answer = ([n for n, _, _ in batches], len(items) if changes is not None else 0, changes)
        if not parent_gone:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                _write_all(answers, _HEADER.pack(len(data)) + data)
            except OSError:
                parent_gone = True  # killed: write what it had sent, then exit
        if ended:
            break


if __name__ == "__main__":
    serve(sys.argv[1], float(sys.argv[2]))
