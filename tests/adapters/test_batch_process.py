"""The click queue's writer process (`adapters/batch_process.py`): batches written in a
child process, answered, announced; a failed write tried again once; a writer that dies
started again with nothing lost or written twice; a worker killed outright loses only what
it had not sent; a clean stop writes everything. Real processes throughout: the writer
runs `write_lines` below, which appends each batch to a file (BATCH_OUT)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from orgportal.adapters import batch_process
from orgportal.adapters.batch_process import ProcessQueue

TARGET = f"{__name__}:write_lines"


def write_lines(items: list, resent: bool) -> set:
    """The writer's work in these tests: one JSON line per batch in BATCH_OUT; a batch
    containing "fail" fails as often as the number after it says (a FAILS file counts)."""
    out = Path(os.environ["BATCH_OUT"])
    fails = out.with_suffix(".fails")
    if fails.exists() and int(fails.read_text()) > 0:
        fails.write_text(str(int(fails.read_text()) - 1))
        raise RuntimeError("database busy")
    with out.open("a") as lines:
        lines.write(json.dumps({"items": items, "resent": resent, "pid": os.getpid()}) + "\n")
    return {("written", len(items))}


def batches(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def stored(out: Path) -> list:
    """Every item written, duplicates kept (a resent batch's writer here skips nothing)."""
    return [item for batch in batches(out) for item in batch["items"]]


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "batches.jsonl"


def new_queue(out: Path, announced: list, interval: float = 3600) -> ProcessQueue:
    return ProcessQueue(TARGET, interval, announced.append, lambda: {"BATCH_OUT": str(out)})


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_items_are_written_in_batches_by_another_process_and_announced(out):
    announced: list = []
    queue = new_queue(out, announced)
    try:
        queue.put(1)
        queue.put(2)
        assert queue.depth() == 2
        assert queue.flush() == 2
        assert queue.depth() == 0
        queue.put(3)
        assert queue.flush() == 1
        written = batches(out)
        assert [b["items"] for b in written] == [[1, 2], [3]]
        assert {b["pid"] for b in written} == {queue.writer_pid()}
        assert queue.writer_pid() != os.getpid()
        assert announced == [{("written", 2)}, {("written", 1)}]
    finally:
        queue.stop()


def test_the_depth_metric_follows_the_queue(out):
    """Set as batches are sent and answered (a redirect's `put` pays nothing for it)."""
    queue = new_queue(out, [], interval=1.0)
    try:
        out.with_suffix(".fails").write_text("1")  # the writer answers after its retry
        queue.put(1)
        queue.put(2)
        queue._send_pending()
        assert sample("orgportal_click_queue_depth") == 2
        assert queue.flush() == 2
        assert sample("orgportal_click_queue_depth") == 0
    finally:
        queue.stop()


def test_a_failed_write_is_tried_again_once_then_dropped(out):
    queue = new_queue(out, [], interval=0.05)
    try:
        out.with_suffix(".fails").write_text("1")
        queue.put(1)
        queue.put(2)
        assert queue.flush() == 2  # failed once, written on the second try
        assert batches(out) == [{"items": [1, 2], "resent": True, "pid": queue.writer_pid()}]
        out.with_suffix(".fails").write_text("2")
        queue.put(3)
        assert queue.flush() == 0  # failed twice: dropped (logged), the queue goes on
        queue.put(4)
        assert queue.flush() == 1
        assert stored(out) == [1, 2, 4]
    finally:
        queue.stop()


def test_a_writer_that_dies_is_started_again_and_gets_its_batches_again(out):
    """Killed while it holds an unanswered batch (here: stuck retrying a write), the writer
    is replaced; the batch goes to the new writer, marked as possibly stored."""
    restarts = sample("orgportal_click_writer_restarts_total")
    queue = new_queue(out, [], interval=30)  # a failed write waits 30 s before its retry
    try:
        queue.put(1)
        assert queue.flush() == 1
        first = queue.writer_pid()
        out.with_suffix(".fails").write_text("1")
        queue.put(2)
        queue._send_pending()
        wait_for(lambda: out.with_suffix(".fails").read_text() == "0")  # it failed, waits
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: queue.depth() == 0)
        assert queue.writer_pid() not in (None, first)
        assert sample("orgportal_click_writer_restarts_total") == restarts + 1
        assert batches(out)[1] == {"items": [2], "resent": True, "pid": queue.writer_pid()}
        queue.put(3)
        assert queue.flush() == 1
        assert stored(out) == [1, 2, 3]
    finally:
        queue.stop()


def test_a_worker_whose_writer_keeps_dying_writes_itself(out, monkeypatch):
    monkeypatch.setattr(batch_process, "RESTARTS", 0)
    announced: list = []
    queue = new_queue(out, announced)
    monkeypatch.setenv("BATCH_OUT", str(out))  # the worker's own writes read it here
    try:
        queue.put(1)
        assert queue.flush() == 1
        os.kill(queue.writer_pid(), signal.SIGKILL)
        wait_for(lambda: queue.writer_pid() is None)
        queue.put(2)
        assert queue.flush() == 1
        assert stored(out) == [1, 2]
        assert batches(out)[1]["pid"] == os.getpid()
        assert announced[-1] == {("written", 1)}
    finally:
        queue.stop()


def test_a_clean_stop_writes_everything_and_the_writer_exits(out):
    queue = new_queue(out, [])
    queue.put(1)
    queue.flush()
    pid = queue.writer_pid()
    for item in range(2, 500):
        queue.put(item)
    queue.stop()
    assert stored(out) == list(range(1, 500))
    assert queue.depth() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # exited and reaped


WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from orgportal.adapters.batch_process import ProcessQueue
    queue = ProcessQueue(sys.argv[1], 3600, lambda changes: None, lambda: {"BATCH_OUT": sys.argv[2]})
    queue.put(0)
    queue.flush()
    print(queue.writer_pid(), flush=True)
    for item in range(1, 20001):
        queue.put(item)
    queue._send_pending()  # sent, not answered yet
    queue.put("never sent")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_worker_killed_outright_loses_only_what_it_had_not_sent(out):
    """Its writer reads the end of its stdin, writes every batch it had been sent, exits."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER, TARGET, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    writer = int(done.stdout.split()[-1])

    def gone() -> bool:
        try:
            os.kill(writer, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{writer}/stat").read_text().split()[2] == "Z"  # not reaped yet

    wait_for(gone)
    assert stored(out) == list(range(20001))


def test_a_writer_that_dies_while_the_worker_stops_leaves_its_batches_to_the_worker(
    out, monkeypatch
):
    import threading

    monkeypatch.setenv("BATCH_OUT", str(out))  # the worker's own writes read it here
    queue = new_queue(out, [], interval=30)  # a failed write waits 30 s before its retry
    queue.put(1)
    assert queue.flush() == 1
    writer = queue.writer_pid()
    out.with_suffix(".fails").write_text("1")
    queue.put(2)
    stopping = threading.Thread(target=queue.stop)
    stopping.start()
    wait_for(lambda: out.with_suffix(".fails").read_text() == "0")  # it failed, waits
    os.kill(writer, signal.SIGKILL)
    stopping.join(timeout=20)
    assert not stopping.is_alive()
    assert stored(out) == [1, 2]
    assert batches(out)[1] == {"items": [2], "resent": True, "pid": os.getpid()}


def test_a_forked_process_gets_a_click_queue_of_its_own():
    from orgportal.api import click_recording

    parents = click_recording.queue()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the forked child)
        os.write(writer, b"1" if click_recording.queue() is not parents else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    try:
        assert os.read(reader, 1) == b"1"
    finally:
        os.close(reader)
        os.close(writer)
