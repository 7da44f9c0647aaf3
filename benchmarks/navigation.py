"""How fast do page changes feel? Click → content visible, next to a bare Reflex page change.

Starts orgportal (`make run`, in a private copy of the checkout so that no
other run rebuilds its frontend under it; temp SQLite database, one worker) and the floor
app (`benchmarks/floor_app`, a bare Reflex app, also from a copy) side by side, then drives
real Chromium through each action, --runs times, the actions interleaved run by run so that
both apps see the same machine:

- floor, link / event / full load: /start → /next of the bare app by a link (a client-side
  route change), by a button whose event returns `rx.redirect`, and by a button that loads
  the page anew (`window.location.assign`). Each page shows its heading once its own load
  event has run, like orgportal's pages. The link is the floor the targets are set against.
- sidebar navigation: the organization overview → Members (the member row visible).
- sign in → landing: Sign in on /login → the organization's overview (its heading).
- switch workspace: profile menu → the other organization, on its overview (its heading).
- create a ticket → its page: New ticket form → Create Ticket → the ticket's page (its subject).
- accept an invite: Accept on /support/invite/{token}, signed in as the invited address → the
  organization's overview (its heading).

"Click" is the time of the click (or pointerup) event in the page; "content visible" is the
first DOM mutation after which the action's element is in the DOM, rendered, with its text.
Both are read from the browser's own clock (`performance.timeOrigin + …`) by an init script
that survives full page loads (it keeps its marks in sessionStorage), so a full page load
costs what it really costs. Each run uses a fresh tab (a fresh browser context for sign-in
and invites), so no page shows state left by an earlier visit. The password check (argon2)
is timed in this process with the app's own parameters: the sign-in target is the floor
plus that hash.

    .venv/bin/python benchmarks/navigation.py [--runs 15] [--busy 0] [--trace]

`--busy K` keeps K extra processes spinning on the CPU meanwhile (a loaded machine); `--trace`
prints, for one run of each action, what happened between click and content (requests,
websocket frames, with their times).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLOOR_APP = Path(__file__).resolve().parent / "floor_app"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from usage_live import free_port, start_app, stop_app  # noqa: E402

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Runs in every document before its scripts: marks the click and the first moment the armed
# target is visible, in sessionStorage, so both survive a full page load.
MARKER = """
(() => {
  const KEY = "__navbench";
  const read = () => { try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); }
                       catch (e) { return null; } };
  const write = (value) => sessionStorage.setItem(KEY, JSON.stringify(value));
  const mark = (event) => {
    const t = read();
    if (t && t.armed && !t.clicked) { t.clicked = performance.timeOrigin + event.timeStamp; write(t); }
  };
  addEventListener("pointerup", mark, true);
  addEventListener("click", mark, true);
  // the first websocket frame after the click: the server's answer to the action
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => {
        const t = read();
        if (t && t.clicked && !t.answered) { t.answered = performance.timeOrigin + performance.now(); write(t); }
      });
    }
  };
  const visible = (t) => {
    for (const el of document.querySelectorAll(t.selector)) {
      const text = (el.textContent || "").trim();
      if ((t.text === "" || text === t.text) && el.getClientRects().length > 0) return true;
    }
    return false;
  };
  const check = () => {
    const t = read();
    if (t && t.clicked && !t.seen && visible(t)) {
      t.seen = performance.timeOrigin + performance.now(); write(t);
    }
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ["style", "class", "hidden"],
  });
})();
"""
HEADINGS = "h1, h2, h3, h4"


# --- the apps ------------------------------------------------------------------------------


def app_copy(source: Path, dest: Path, *, make_stamps: bool) -> Path:
    """A private copy to run from: its own `.web`, so that another run (the e2e suite's
    `make run` in the checkout) cannot rebuild the frontend under this one. `.venv` and
    `tools/node_modules` are links to the real ones (tests/faults/services.py does the same)."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", ".web", ".states", "node_modules", "var", "uploaded_files",
        "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.egg-info", "*.db",
    )  # fmt: skip
    shutil.copytree(source, dest, ignore=ignore, symlinks=True)
    if make_stamps:
        (dest / ".venv").symlink_to(ROOT / ".venv")
        (dest / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules")
        (dest / ".make").mkdir(exist_ok=True)
        for name in ("venv", "bun"):  # make never reinstalls into the shared venv
            (dest / ".make" / name).touch()
    return dest


def tool_path() -> str:
    return f"{ROOT / 'tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}"


def start_orgportal(tmp: Path, env: dict[str, str], extra_pages: str = ""):
    """orgportal from a private copy; `extra_pages`, Python source appended to the copy's
    `orgportal/orgportal.py`, adds pages that only a benchmark measures."""
    root = app_copy(ROOT, tmp / "orgportal", make_stamps=True)
    if extra_pages:
        module = root / "orgportal" / "orgportal.py"
        module.write_text(module.read_text() + extra_pages)
    return start_app(["make", "run"], root, env, tmp / "app.log", "/login")


def start_floor(tmp: Path, port: int, source: Path = FLOOR_APP, ready: str = "/start"):
    """The floor app (or another bare Reflex app in `benchmarks/`), built for production."""
    root = app_copy(source, tmp / source.name, make_stamps=False)
    env = {
        "PORT": str(port),
        "PATH": tool_path(),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    cmd = ["reflex", "run", "--env", "prod"]
    return start_app(cmd, root, env, tmp / f"{source.name}.log", ready)


# --- what the runs need in the database ----------------------------------------------------


@dataclass
class Seeded:
    owner_email: str
    owner_cookie: str
    workspaces: tuple[str, str]  # the owner's two organizations (the first is active)
    signer_email: str  # signs in on /login; lands on their organization
    signer_org: str
    invites: list[tuple[str, str, str]] = field(default_factory=list)  # (cookie, token, org)


def _cookie_for(session, user, org_id) -> str:
    from orgportal.services import accounts

    ticket = accounts.issue_sign_in_ticket(session, user, org_id, browser="navigation")
    raw, _ = accounts.open_session(session, ticket, browser="navigation")
    return raw


def seed(runs: int) -> Seeded:
    """Through the real services, on the app's (migrated) database."""
    from orgportal import security
    from orgportal.db import unit_of_work
    from orgportal.services import accounts, invitations, links
    from orgportal.services import organizations as orgs

    tag = uuid.uuid4().hex[:6]

    def person(session, name: str):
        form = accounts.Registration(f"{name}-{tag}@example.com", PASSWORD, name.title(), "Bench")
        return accounts.register(session, form, confirmed=True)

    with unit_of_work() as session:
        owner = person(session, "owner")
        one = orgs.create_organization(session, user=owner, name="Bench One")
        two = orgs.create_organization(session, user=owner, name="Bench Two")
        session.flush()
        for org in (one, two):
            links.create_link(
                session, user=owner, organization_id=org.id, target_url="https://example.com/"
            )
        owner_cookie = _cookie_for(session, owner, one.id)
        signer = person(session, "signer")
        signed = orgs.create_organization(session, user=signer, name="Signer Co")
        session.flush()
        accounts.remember_workspace(session, signer, signed.id)
        seeded = Seeded(
            owner.email, owner_cookie, ("Bench One", "Bench Two"), signer.email, "Signer Co"
        )
        for i in range(runs + 1):
            name = f"Invite Org {i}"
            org = orgs.create_organization(session, user=owner, name=name)
            invitee = person(session, f"invitee{i}")
            session.flush()
            invite = invitations.create_invite(
                session, user=owner, organization_id=org.id, email=invitee.email, role="agent"
            )
            token = security.new_token()
            invite.token_hash = security.token_hash(token)  # the mailed link's token, known here
            session.add(invite)
            seeded.invites.append((_cookie_for(session, invitee, None), token, name))
    return seeded


def password_check_seconds() -> float:
    """What the sign-in's argon2 check costs here (the app's parameters), median of 5."""
    from orgportal import security

    hashed = security.hash_password(PASSWORD)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        security.verify_password(PASSWORD, hashed)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- measuring one click -------------------------------------------------------------------


# With --trace: what happened between click and content, as the page saw it (its own clock):
# websocket frames, requests (resource timing) and each document's milestones.
TRACE = """
(() => {
  const KEY = "__navtrace";
  const armed = () => { try { return !!JSON.parse(sessionStorage.getItem("__navbench") || "null"); }
                        catch (e) { return false; } };
  const log = (at, line) => {
    if (!armed()) return;
    const lines = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    lines.push([performance.timeOrigin + at, line]);
    sessionStorage.setItem(KEY, JSON.stringify(lines));
  };
  const text = (data) => (typeof data === "string" ? data : "[binary]");
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      log(performance.now(), "ws open");
      this.addEventListener("message", (e) => log(performance.now(), "ws ↓ " + text(e.data)));
      this.addEventListener("close", () => log(performance.now(), "ws closed"));
    }
    send(data) { log(performance.now(), "ws ↑ " + text(data)); super.send(data); }
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.entryType === "navigation") {
        log(e.startTime, "document " + e.name + " requested");
        log(e.responseEnd, "document received");
        log(e.domInteractive, "document parsed");
      } else if (["fetch", "xmlhttprequest", "script", "link"].includes(e.initiatorType)) {
        log(e.startTime, "→ " + e.initiatorType + " " + e.name);
        log(e.responseEnd, "← " + e.initiatorType + " " + e.name.split("/").pop());
      }
    }
  }).observe({entryTypes: ["navigation", "resource"]});
})();
"""


def print_trace(page: Page, clicked: float, seen: float) -> None:
    lines = json.loads(page.evaluate("() => sessionStorage.getItem('__navtrace') || '[]'"))
    page.evaluate("() => sessionStorage.removeItem('__navtrace')")
    for at, line in sorted(lines):
        if clicked - 20 <= at <= seen + 200:
            if line.startswith(("ws ↑ ", "ws ↓ ")):
                line = f"{line[:4]} {len(line) - 5:>6} B {_describe(line[5:])}"
            print(f"      {at - clicked:+7.0f} ms  {line[:160]}")
    print(f"      {seen - clicked:+7.0f} ms  content visible")


def _describe(frame: str) -> str:
    """A websocket frame in a few words: the event sent, or the states a delta touched."""
    body = frame.lstrip("0123456789")
    try:
        start = body.index("[")
        message = json.loads(body[start:])
    except ValueError:
        return frame[:60]
    if not isinstance(message, list) or len(message) < 2 or not isinstance(message[1], dict):
        return str(message)[:60]
    data = message[1]
    if "name" in data:
        return f"event {data['name'].rsplit('.', 2)[-2:]}"
    states = [name.rsplit("____", 1)[-1] for name in (data.get("delta") or {})]
    events = [e.get("name", "") for e in data.get("events") or []]
    return f"delta {states} events {events}"[:120]


def arm(page: Page, selector: str, text: str) -> None:
    page.evaluate(
        "([s, t]) => sessionStorage.setItem('__navbench', JSON.stringify("
        "{armed: true, selector: s, text: t}))",
        [selector, text],
    )


@dataclass
class Mark:
    """Epoch ms of the browser's clock: the click, the first websocket frame after it (the
    server's answer to the action), the content visible."""

    clicked: float
    answered: float
    seen: float


def wait_seen(page: Page, timeout: float = 30) -> Mark:
    """The marks of the armed click, once its content is visible; survives page loads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = page.evaluate("() => sessionStorage.getItem('__navbench')")
        except Exception:  # the page is being replaced (a full load): ask the new one
            raw = None
        mark = json.loads(raw) if raw else None
        if mark and mark.get("seen"):
            answered = mark.get("answered") or mark["seen"]
            return Mark(mark["clicked"], min(answered, mark["seen"]), mark["seen"])
        time.sleep(0.02)
    raise SystemExit(f"content never became visible on {page.url}")


def visible(page: Page, selector: str, text: str = "", timeout: float = 30_000) -> None:
    locator = page.locator(selector)
    if text:
        locator = locator.filter(has_text=text)
    locator.first.wait_for(state="visible", timeout=timeout)


# --- the actions ---------------------------------------------------------------------------


@dataclass
class Action:
    name: str
    app: str  # "floor" | "orgportal"
    run: Callable[..., Mark]  # (floor context, run number, trace) → its marks
    times: list[float] = field(default_factory=list)  # click → content visible, ms
    answers: list[float] = field(default_factory=list)  # click → the server's first answer


def new_context(browser, base: str, cookie: str = "") -> BrowserContext:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.add_init_script(MARKER)
    if cookie:
        from orgportal.routes import SESSION_COOKIE

        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    return context


def open_page(context: BrowserContext, trace: bool) -> tuple[Page, bool]:
    page = context.new_page()
    if trace:
        page.add_init_script(TRACE)
    return page, trace


def measured(page: Page, trace: bool, click: Callable[[], None]) -> Mark:
    click()
    mark = wait_seen(page)
    if trace:
        time.sleep(0.3)  # what follows the content, too
        print_trace(page, mark.clicked, mark.seen)
    return mark


def floor_action(how: str) -> Callable[..., Mark]:
    def run(ctx: BrowserContext, n: int, trace: bool) -> Mark:
        page, trace_it = open_page(ctx, trace)
        page.goto("/start")
        visible(page, "h1", "Start page")
        arm(page, "h1", "Next page")
        control = (
            page.get_by_role("link", name="Next page")
            if how == "link"
            else page.get_by_role("button", name=how)
        )
        result = measured(page, trace_it, control.click)
        page.close()
        return result

    return run


def orgportal_actions(seeded: Seeded, browser, base: str) -> dict[str, Callable]:
    owner = new_context(browser, base, seeded.owner_cookie)
    state = {"active": 0}

    def sidebar(_ctx, n: int, trace: bool):
        page, trace_it = open_page(owner, trace)
        page.goto("/organization")
        active = seeded.workspaces[state["active"]]
        visible(page, HEADINGS, active)
        arm(page, f'[aria-label="Member {seeded.owner_email}"]', "")
        nav = page.get_by_role("navigation", name="Organization")
        result = measured(page, trace_it, nav.get_by_role("link", name="Members").click)
        page.close()
        return result

    def switch(_ctx, n: int, trace: bool):
        page, trace_it = open_page(owner, trace)
        page.goto("/organization")
        visible(page, HEADINGS, seeded.workspaces[state["active"]])
        other = seeded.workspaces[1 - state["active"]]
        page.get_by_role("button", name="Profile menu").click()
        item = page.get_by_role("menuitem", name=other)
        item.wait_for(state="visible")
        arm(page, HEADINGS, other)
        result = measured(page, trace_it, item.click)
        state["active"] = 1 - state["active"]
        page.close()
        return result

    def create_ticket(_ctx, n: int, trace: bool):
        page, trace_it = open_page(owner, trace)
        page.goto("/tickets")
        page.get_by_role("button", name="New ticket").click()
        form = page.get_by_label("New ticket")
        subject = f"Printer {n} is on fire {uuid.uuid4().hex[:4]}"
        form.get_by_label("Customer name").fill("Carl Customer")
        form.get_by_label("Customer email").fill("carl@example.com")
        form.get_by_label("Subject").fill(subject)
        form.get_by_label("Message").fill("Please help.")
        arm(page, HEADINGS, subject)
        result = measured(page, trace_it, form.get_by_role("button", name="Create Ticket").click)
        page.close()
        return result

    def sign_in(_ctx, n: int, trace: bool):
        context = new_context(browser, base)
        page, trace_it = open_page(context, trace)
        page.goto("/login")
        page.wait_for_function(  # React has taken over the form (tests/e2e/helpers.py)
            "() => { const f = document.querySelector('form');"
            " return !!f && Object.keys(f).some(k => k.startsWith('__reactProps')); }"
        )
        page.get_by_label("Email").fill(seeded.signer_email)
        page.get_by_label("Password").fill(PASSWORD)
        arm(page, HEADINGS, seeded.signer_org)
        result = measured(page, trace_it, page.get_by_role("button", name="Sign in").click)
        context.close()
        return result

    def accept(_ctx, n: int, trace: bool):
        cookie, token, org = seeded.invites[n]
        context = new_context(browser, base, cookie)
        page, trace_it = open_page(context, trace)
        page.goto(f"/support/invite/{token}")
        button = page.get_by_role("button", name="Accept")
        button.wait_for(state="visible")
        arm(page, HEADINGS, org)
        result = measured(page, trace_it, button.click)
        context.close()
        return result

    return {
        "sidebar navigation": sidebar,
        "sign in → landing": sign_in,
        "switch workspace": switch,
        "create a ticket → its page": create_ticket,
        "accept an invite": accept,
    }


# --- report --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(actions: list[Action], floor: str, hash_ms: float, runs: int, busy: int) -> None:
    base = statistics.median(next(a for a in actions if a.name == floor).times)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    sign_in = next((a for a in actions if a.name.startswith("sign in")), None)
    check = statistics.median(sign_in.answers) if sign_in else 0.0
    print(
        f"\n{runs} runs each, interleaved; {busy} busy process(es); click → content visible "
        f"(median, p90); the floor is {floor} ({base:.0f} ms median); the sign-in's password "
        f"check is its click → answer ({check:.0f} ms median; argon2 alone here: "
        f"{hash_ms:.0f} ms)\n"
    )
    print("| action | click → content, median | p90 | ÷ floor | click → answer | target |")
    print("|---|---|---|---|---|---|")
    for action in actions:
        median, p90 = statistics.median(action.times), percentile(action.times, 90)
        answer = statistics.median(action.answers)
        target = "—"
        if action.app == "orgportal":
            limit = 1.5 * base + (check if action is sign_in else 0)
            target = f"≤ {limit:.0f} ms {'✓' if median <= limit else '✗'}"
        print(
            f"| {action.name} | {median:.0f} ms | {p90:.0f} ms | {median / base:.2f}× "
            f"| {answer:.0f} ms | {target} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--busy", type=int, default=0, help="extra CPU-bound processes")
    parser.add_argument("--trace", action="store_true", help="print one run of each action")
    parser.add_argument("--only", nargs="*", default=[], help="orgportal actions to measure")
    # while working on it: measure an orgportal already running (its database URL too)
    parser.add_argument("--app", default="", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="navigation-"))
    port = free_port()
    floor_port = next(p for p in iter(free_port, None) if p != port)
    env = {
        "PORT": str(port),
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "SIGNIN_FAILURE_LIMIT": "100000",
        "REGISTER_RATE_LIMIT": "100000",
        "GRANIAN_WORKERS": "1",
    }
    os.environ.update(env)  # this process seeds the app's database through the services
    for name in ("REFLEX_DB_URL", "REDIS_URL", "REFLEX_REDIS_URL"):  # one worker, no Redis
        os.environ.pop(name, None)
    print(f"starting the apps (copies in {tmp}) …", flush=True)
    app = None if args.app else start_orgportal(tmp, env)
    floor_proc = start_floor(tmp, floor_port)
    spinners: list[subprocess.Popen] = []
    try:
        seeded = seed(args.runs)
        hash_ms = password_check_seconds() * 1000
        floor_base = f"http://localhost:{floor_port}"
        base = args.app or f"http://localhost:{port}"
        spinners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            floor_ctx = new_context(browser, floor_base)
            actions = [
                Action("floor: link (client-side route change)", "floor", floor_action("link")),
                Action("floor: event → rx.redirect", "floor", floor_action("Next by event")),
                Action("floor: full page load", "floor", floor_action("Next by full load")),
            ]
            for name, run in orgportal_actions(seeded, browser, base).items():
                if not args.only or any(word in name for word in args.only):
                    actions.append(Action(name, "orgportal", run))
            for action in actions:  # warm up: first loads compile nothing twice
                action.run(floor_ctx, args.runs, False)
            for n in range(args.runs):
                for action in actions:
                    trace = args.trace and n == 0
                    if trace:
                        print(f"\n  {action.name}:")
                    mark = action.run(floor_ctx, n, trace)
                    action.times.append(mark.seen - mark.clicked)
                    action.answers.append(mark.answered - mark.clicked)
                print(f"  run {n + 1}/{args.runs} done", flush=True)
            browser.close()
        report(actions, actions[0].name, hash_ms, args.runs, args.busy)
    finally:
        for spinner in spinners:
            spinner.kill()
        if app is not None:
            stop_app(app)
        stop_app(floor_proc)


if __name__ == "__main__":
    main()
