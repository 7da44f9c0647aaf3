"""Attacks from a real browser: a hostile page on another local port, anonymous uploads,
login CSRF, and the Content-Security-Policy on the app's own pages."""

import http.server
import json
import re
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import PASSWORD, create_organization, register, sign_in, unique_email
from tests.e2e.test_links_files_usage import PNG_1x1
from tests.processes import free_port

# What the hostile page tries, reporting each outcome into window.results: the app's
# websocket (Reflex's Engine.IO endpoint answers "0{...}" when it accepts a client), a
# credentialed read of a private download, and a credentialed POST to a cookie route.
HOSTILE_SCRIPT = """
async ([app, filePath, withLogout]) => {
  const results = {};
  results.socket = await new Promise((resolve) => {
    const got = [];
    const ws = new WebSocket(app.replace('http', 'ws') + '/_event/?EIO=4&transport=websocket');
    ws.onmessage = (e) => got.push(String(e.data).slice(0, 40));
    ws.onclose = () => resolve({opened: got.length > 0, messages: got});
    ws.onerror = () => {};
    setTimeout(() => { try { ws.close(); } catch (e) {} resolve({opened: got.length > 0, messages: got}); }, 4000);
  });
  const attempts = [['file', filePath, 'GET']];
  if (withLogout) attempts.push(['logout', '/api/auth/logout', 'POST']);
  for (const [name, path, method] of attempts) {
    try {
      const r = await fetch(app + path, {method, credentials: 'include'});
      results[name] = {status: r.status, body: (await r.text()).slice(0, 200)};
    } catch (e) {
      results[name] = {error: String(e)};
    }
  }
  return results;
}
"""


@pytest.fixture(scope="module")
def hostile_origin(tmp_path_factory) -> Iterator[str]:
    """A page served from http://localhost:<another port>: same site, another origin."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "index.html").write_text("<!doctype html><title>Win a prize</title><h1>Prize</h1>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def test_a_page_on_another_origin_gets_nothing(page: Page, base_url: str, hostile_origin):
    register(page, unique_email("victim"))
    create_organization(page, "Victim Org")
    page.goto("/files")
    page.locator("#my-files-upload input[type=file]").set_input_files(
        files=[{"name": "secret.txt", "mimeType": "text/plain", "buffer": b"top secret"}]
    )
    row = page.get_by_label("File secret.txt")
    expect(row).to_be_visible(timeout=20_000)
    download = row.get_by_role("link", name="secret.txt").get_attribute("href")

    # control: from the app's own origin the same script reaches everything
    own = page.evaluate(HOSTILE_SCRIPT, [base_url, download, False])
    assert own["socket"]["opened"], own
    assert own["file"]["status"] == 200 and "top secret" in own["file"]["body"], own

    page.goto("/files")
    hostile = page.context.new_page()
    hostile.goto(hostile_origin)
    stolen = hostile.evaluate(HOSTILE_SCRIPT, [base_url, download, True])
    assert not stolen["socket"]["opened"], stolen
    assert "top secret" not in json.dumps(stolen)
    assert "error" in stolen["file"] or stolen["file"]["status"] == 403, stolen
    assert "error" in stolen["logout"] or stolen["logout"]["status"] == 403, stolen
    hostile.close()

    page.reload()  # still signed in: the hostile POST did not sign the victim out
    expect(page.get_by_label("File secret.txt")).to_be_visible(timeout=20_000)


def test_uploads_without_a_session_store_nothing(base_url: str, app_env):
    logos = Path(app_env["DATA_DIR"]) / "logos"
    before = set(logos.iterdir()) if logos.exists() else set()
    files = {"files": ("logo.png", PNG_1x1, "image/png")}
    handler = (
        "reflex___state____state.orgportal___state___base____app_state."
        "orgportal___state___organization____org_state.upload_logo"
    )
    answer = httpx.post(
        f"{base_url}/_upload",
        files=files,
        headers={"Reflex-Client-Token": str(uuid.uuid4()), "Reflex-Event-Handler": handler},
    )
    assert answer.status_code == 401
    after = set(logos.iterdir()) if logos.exists() else set()
    assert after == before

    huge = httpx.post(
        f"{base_url}/_upload",
        content=b"x" * (20 * 1024 * 1024),
        headers={
            "Reflex-Client-Token": str(uuid.uuid4()),
            "Reflex-Event-Handler": handler.replace(
                "organization____org_state.upload_logo", "content____files_state.upload"
            ),
            "Content-Type": "multipart/form-data; boundary=x",
        },
        timeout=30,
    )
    assert huge.status_code == 401


def test_a_sign_in_link_made_for_another_browser_does_not_sign_this_one_in(
    browser: Browser, base_url: str
):
    """Login CSRF: the attacker signs in to their own account, keeps the ticket link the
    sign-in step produced, and makes the victim's browser open it."""
    attacker_email = unique_email("attacker")
    attacker = browser.new_context(base_url=base_url)
    page = attacker.new_page()
    register(page, attacker_email)
    page.goto("/organization")
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    captured: list[str] = []

    def keep(route):  # the page posts its ticket; the same ticket makes a link
        ticket = parse_qs(route.request.post_data or "").get("ticket", [""])[0]
        captured.append(f"/api/auth/session?{urlencode({'ticket': ticket})}")
        route.abort()

    page.route("**/api/auth/session*", keep)
    aborted = lambda request: "/api/auth/session" in request.url  # noqa: E731  (after `keep`)
    with page.expect_event("requestfailed", aborted, timeout=20_000):
        sign_in(page, attacker_email, PASSWORD)
    attacker.close()
    assert captured and "ticket=&" not in captured[0] + "&", "no ticket was produced"

    victim = browser.new_context(base_url=base_url)
    victim_page = victim.new_page()
    victim_page.goto("/login")
    victim_page.goto(captured[0])
    expect(victim_page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    expect(victim_page.get_by_text("this browser", exact=False)).to_be_visible()
    victim_page.goto("/organization")
    expect(victim_page).to_have_url(re.compile(r"/login\?next=%2Forganization"), timeout=20_000)
    victim.close()


PAGES = ["/login", "/register", "/organization", "/links", "/files", "/tickets", "/account"]


def test_the_apps_pages_pass_their_content_security_policy(page: Page, base_url: str):
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    response = page.goto("/login")
    policy = response.headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    assert response.headers["x-frame-options"] == "DENY"
    register(page, unique_email("csp"))
    create_organization(page, "CSP Org")
    for path in PAGES[2:]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto("/organization/audit")
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_a_click_before_the_page_is_ready_never_puts_the_password_in_the_address(
    page: Page, base_url: str
):
    """The app's scripts never arrive (a slow network, taken to the extreme): the sign-in
    form is the bare prerendered HTML. Pressing Sign in must not send it as a GET: the
    click is held until the page works (tests/e2e/test_before_hydration.py)."""
    page.route(
        re.compile(r".*/assets/.*\.js.*"), lambda route: route.abort()
    )  # Reflex's bundles; the click guard is inline in <head> and runs
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("someone@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.evaluate(  # how a browser's own submission would have ended
        "addEventListener('submit', e => { window.submitted = e.defaultPrevented ? 'refused' : 'sent' })"
    )
    button = page.get_by_role("button", name="Sign in", exact=True)
    button.click()
    expect(button).to_have_attribute("aria-busy", "true")  # held, and shown as waiting
    page.get_by_label("Password").press("Enter")  # the browser's implicit submission too
    page.wait_for_timeout(500)
    assert page.evaluate("window.submitted || ''") != "sent"
    assert "password" not in page.url.lower()
    assert PASSWORD not in page.url
