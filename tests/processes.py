"""Starting the servers the tests (and benchmarks) run, in one place: a free port, a process
started in a process group of its own and polled until it answers, and stopped with SIGTERM,
then SIGKILL if it has not ended. Used by tests/e2e (the app by `make run`), tests/e2e_redis,
tests/deploy (the app, nginx), tests/faults (the app, Redis, SeaweedFS, fake Stripe),
tests/stripe_server.py, tests/object_storage.py and benchmarks/usage_live.py."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on (until someone binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> Callable[[], bool]:
    """Ready once something accepts TCP connections on 127.0.0.1:`port`."""

    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    return ready


def answers(base: str, *paths: str, verify: bool = True) -> Callable[[], bool]:
    """Ready once every `GET base+path` (redirects followed) answers 200."""

    def ready() -> bool:
        try:
            return all(
                httpx.get(
                    f"{base}{path}", timeout=5, follow_redirects=True, verify=verify
                ).status_code
                == 200
                for path in paths
            )
        except httpx.HTTPError:
            return False

    return ready


def app_answers(url: str) -> Callable[[], bool]:
    """The app is up: the backend (`/ping`) and the page bundle (`/login`) both answer."""
    return answers(url, "/ping", "/login")


def log_tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def wait_until_ready(
    process: subprocess.Popen,
    ready: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.3,
    what: str = "the process",
    log: Path | None = None,
) -> None:
    """Polls `ready()` until it is true; RuntimeError (with the log's end) when the process
    exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log_tail(log) if log else ''}")
        if ready():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what} did not start:\n{log_tail(log) if log else ''}")


def start(
    command: Sequence[str],
    *,
    ready: Callable[[], bool],
    log: Path | None = None,
    append: bool = False,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    interval: float = 0.3,
    what: str | None = None,
) -> subprocess.Popen:
    """`command` in a new session (its own process group, so `stop` reaches its children),
    output to `log` (or discarded), returned once `ready()` is true; stopped again when it
    does not get there."""
    target = log.open("ab" if append else "wb") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=target, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    finally:
        if log:
            target.close()  # the child has its own copy
    try:
        wait_until_ready(
            process, ready, timeout=timeout, interval=interval, what=what or command[0], log=log
        )
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """`sig` (SIGTERM: a graceful stop) to the process's group, SIGKILL to it after `timeout`
    seconds; returns once the process has ended."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def app_environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with `env` over it, without a database URL Reflex would
    prefer to DATABASE_URL."""
    full = {**os.environ, **env}
    full.pop("REFLEX_DB_URL", None)
    return full


def start_app(
    env: dict[str, str], log: Path, *, cwd: Path = ROOT, timeout: float = 300
) -> subprocess.Popen:
    """Exactly what a new user runs, `make run`, in `cwd` with the full environment `env`,
    returned once the backend and the page bundle answer on its PORT."""
    url = f"http://localhost:{env['PORT']}"
    return start(
        ["make", "run"], ready=app_answers(url), log=log, cwd=cwd, env=env, timeout=timeout,
        interval=1, what="the app",
    )  # fmt: skip
