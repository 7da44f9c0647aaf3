"""The app as deployed (README "Deploying"): Debian's nginx, started with deploy/nginx.conf,
terminating TLS (a self-signed certificate) in front of two backend workers that share Redis
and PostgreSQL. Playwright's pages go through nginx (`base_url` is its HTTPS address)."""

import os
import re
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import scratch_postgres_database
from tests.e2e.conftest import *  # noqa: F403  (browser, healthy_app, mail_dir fixtures)
from tests.e2e.conftest import MANY_ATTEMPTS, ROOT
from tests.processes import answers, app_environment, free_port, start, start_app, stop

REDIS_URL = "redis://127.0.0.1:6379/4"
POSTGRES = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
NGINX = Path("/usr/sbin/nginx")
# The client addresses of the address test: loopback aliases a socket can bind to.
OFFICE, ELSEWHERE = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    return {"app": free_port(), "https": free_port(), "http": free_port()}


@pytest.fixture(scope="session")
def app_database() -> Iterator[str]:
    with scratch_postgres_database(POSTGRES) as url:
        yield url


@pytest.fixture(scope="session")
def app_env(tmp_path_factory, app_database, ports) -> dict[str, str]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    tmp = tmp_path_factory.mktemp("app")
    return {
        "PORT": str(ports["app"]),
        "DATABASE_URL": app_database,
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        # 127.0.0.1, not localhost: Reflex sends an https page on "localhost" to port 443
        "PUBLIC_URL": f"https://127.0.0.1:{ports['https']}",
        "REDIS_URL": REDIS_URL,
        "GRANIAN_WORKERS": "2",
        "TRUSTED_PROXIES": "127.0.0.1",  # nginx, as the app sees it
        "METRICS_ALLOWED_ADDRESSES": f"{OFFICE}/32",
        **MANY_ATTEMPTS,
    }


@pytest.fixture(scope="session")
def app_url(app_env, app_log) -> Iterator[str]:
    """`make run`, as tests/e2e/conftest.py starts it, reached directly (not through nginx)."""
    proc = start_app(app_environment(app_env), app_log)
    try:
        yield f"http://localhost:{app_env['PORT']}"
    finally:
        stop(proc)


def render(conf: str, *, ports: dict[str, int], cert: Path, key: Path) -> str:
    """deploy/nginx.conf with the values its comments mark CHANGE set for this test."""
    conf = conf.replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{ports['app']};")
    for port, name in ((443, "https"), (80, "http")):  # loopback only, both families
        conf = re.sub(
            rf"listen {port}\b([^;]*);",
            rf"listen 127.0.0.1:{ports[name]}\1; listen [::1]:{ports[name]}\1;",
            conf,
        )
    conf = conf.replace("portal.example.com", "localhost")
    conf = conf.replace("/etc/ssl/orgportal/fullchain.pem", str(cert))
    return conf.replace("/etc/ssl/orgportal/privkey.pem", str(key))


@pytest.fixture(scope="session")
def proxy(app_url, ports, tmp_path_factory) -> Iterator[dict[str, str]]:
    """nginx in front of the app: its HTTPS and HTTP base addresses."""
    if not NGINX.exists():
        pytest.skip("nginx is not installed (Debian package nginx-light; `make test` installs it)")
    prefix = tmp_path_factory.mktemp("nginx")
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = render((ROOT / "deploy" / "nginx.conf").read_text(), ports=ports, cert=cert, key=key)
    (prefix / "nginx.conf").write_text(
        textwrap.dedent(
            f"""
            worker_processes 1;
            error_log {prefix}/error.log warn;
            pid {prefix}/nginx.pid;
            events {{ worker_connections 512; }}
            http {{
                access_log {prefix}/access.log;
                client_body_temp_path {prefix}/body;
                proxy_temp_path {prefix}/proxy;
                fastcgi_temp_path {prefix}/fastcgi;
                uwsgi_temp_path {prefix}/uwsgi;
                scgi_temp_path {prefix}/scgi;
            """
        )
        + site
        + "\n}\n"
    )
    https = f"https://127.0.0.1:{ports['https']}"
    proc = start(
        [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        ready=answers(https, "/healthz", verify=False), log=prefix / "nginx.out", timeout=30,
        what="nginx",
    )  # fmt: skip
    try:
        yield {"https": https, "http": f"http://127.0.0.1:{ports['http']}"}
    finally:
        stop(proc, sig=signal.SIGQUIT, timeout=10)  # graceful


@pytest.fixture(scope="session")
def base_url(proxy) -> str:
    """Where Playwright's pages go: through nginx."""
    return proxy["https"]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "ignore_https_errors": True}
