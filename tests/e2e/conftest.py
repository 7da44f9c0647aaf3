"""E2E fixtures: the real app started with `make run` on a temp database, real Chromium."""

from pathlib import Path

import pytest

from tests.processes import app_environment, free_port, start_app, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Every browser of the suite registers and fails sign-ins (lockout tests) from 127.0.0.1, and
# one test's count must not refuse another's; tests/state/test_client_limits.py covers the
# per-address limits.
MANY_ATTEMPTS = {"SIGNIN_FAILURE_LIMIT": "100000", "REGISTER_RATE_LIMIT": "100000"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def local_dns():
    """The DNS server the app asks for custom domains' TXT records (SPEC §15): a thread of
    this process on 127.0.0.1; a test writes the records (`local_dns.set_txt`)."""
    from tests.dns_server import LocalDns

    server = LocalDns().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_env(tmp_path_factory, local_dns) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("app")
    port = free_port()
    return {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        # The browser is our "proxy": a test may send X-Forwarded-For to appear to come from
        # elsewhere (tests/e2e/test_two_factor.py, the IP allowlist); without it, the peer.
        "TRUSTED_PROXIES": "127.0.0.1,::1",
        "DNS_RESOLVER": local_dns.address,
        # pending custom domains are looked up again this often (default 5 minutes)
        "PENDING_DOMAIN_RECHECK_SECONDS": "2",
        # webhook endpoints may be the tests' local receivers (127.0.0.1, plain http)
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
        # the single sign-on tests' identity providers run on 127.0.0.1 over http
        "SSO_ALLOW_PRIVATE_IDP": "1",
        # schemathesis (test_api_contract.py) sends a few thousand requests with one key;
        # the per-key limit has its own tests (tests/api, tests/e2e_redis)
        "API_RATE_LIMIT": "1000000",
        **MANY_ATTEMPTS,
    }


@pytest.fixture(scope="session")
def app_log(tmp_path_factory) -> Path:
    """Everything the app prints (the error-capture fixture reads it)."""
    return tmp_path_factory.mktemp("log") / "app.log"


@pytest.fixture(scope="session")
def base_url(app_env, app_log) -> str:
    """Runs exactly what a new user runs: `make run`, then waits for the app to answer."""
    proc = start_app(app_environment(app_env), app_log)
    try:
        yield f"http://localhost:{app_env['PORT']}"
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def mail_dir(app_env) -> Path:
    return Path(app_env["MAIL_DIR"])


@pytest.fixture(autouse=True)
def healthy_app(request):
    """Every browser test also proves the app stayed healthy while it ran: the test fails
    when the app logged a traceback, when a page raised a JavaScript error, or when a page
    logged a Content-Security-Policy violation (any page of the test's browser context)."""
    if "base_url" not in request.fixturenames:
        yield
        return
    log: Path = request.getfixturevalue("app_log")
    start = log.stat().st_size if log.exists() else 0
    problems: list[str] = []
    if "page" in request.fixturenames:
        context = request.getfixturevalue("page").context

        def on_console(msg) -> None:
            if "Content Security Policy" in msg.text:
                problems.append(f"CSP violation: {msg.text}")

        context.on("console", on_console)
        context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
    yield
    with log.open(errors="replace") as handle:
        handle.seek(start)
        written = handle.read()
    if "Traceback (most recent call last)" in written:
        first = written.index("Traceback (most recent call last)")
        # from the first traceback on: its cause comes first, what it led to after
        problems.append("the app logged a traceback:\n" + written[first : first + 6000])
    assert problems == [], "\n".join(problems)
