"""How long until a page works? Navigation start → interactive, next to a bare Reflex page.

Starts orgportal (`make run` in a private copy of the checkout, temp SQLite database, one
worker, prod build) and the floor app (`benchmarks/floor_app`, also `reflex run --env prod`
from a copy), seeds one organization (its Owner, 3 more members, 2 invites, 10 links), then
loads each page in real Chromium, the pages interleaved run by run so that both apps see the
same machine:

- the sign-in page (/login, signed out), /organization, /organization/members, /links and
  /analytics (signed in as the Owner);
- the floor: /bare of the floor app, a page with one state var filled by its load event;
- the same bare page added to the measured copy of orgportal (`BARE_INSIDE`): what a page
  load costs in orgportal's app (its root, theme, states, routes and shared scripts) before
  any of its own pages' content.

"Interactive", the same on both sides, is the first moment (the page's own clock,
`performance.now()` from navigation start) at which all of these hold:
1. React has hydrated the page: `<html data-hydrated="true">`, set by an effect of the app
   root once React has committed the hydrated page with its event handlers
   (`orgportal/components/hydration.py`; the floor app has the same marker);
2. the page's load events have run and their data reached the page: `<html
   data-loaded="true">`, which mirrors Reflex's own `State.is_hydrated` (Reflex sets it
   only after the page's `on_load` handlers, in a later delta than their data);
3. the page's first data is on screen: a given element rendered (with its text): the
   organization's name, the Owner's member row, a link's row, the analytics totals, the
   Sign in button; the bare page's greeting.
It is taken in a MutationObserver callback, so it is the DOM change that completed it.

Each load is "cold" (a fresh browser context: empty HTTP cache, a new tab and client
token, as a first visit) and then "warm" (the same page again in a new tab of that context:
its scripts come from the HTTP cache; a returning visitor). The JavaScript a load fetched is
summed from Resource Timing (`.js` responses): transfer (bytes on the wire, headers
included, compressed when served compressed) and decoded (the scripts' size), all of them
(until the network is idle) and those that had arrived by "interactive" (lazy parts, such as
the analytics chart's recharts, come after).

    .venv/bin/python benchmarks/page_load.py [--runs 5] [--pages /links /analytics]
    .venv/bin/python benchmarks/page_load.py --shapes [--runs 9]

`--shapes` measures only `benchmarks/shapes_app`: the same twelve-row table of links built
with orgportal's kind of components (Radix Themes layout and text components, style props, a
dialog per row), without the dialogs, and as plain elements with static class names, next to
that app's bare page.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from navigation import CHROMIUM_ARGS, start_floor, start_orgportal  # noqa: E402
from usage_live import free_port, stop_app  # noqa: E402

# Runs in every document before its scripts. `spec` = {selector, text}: the page's data.
WATCH = """
((spec) => {
  const P = (window.__pageLoad = { hydrated: 0, loaded: 0, interactive: 0 });
  // the page's websocket: when it was made, opened, and its messages before data-loaded
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    P.socket = P.socket || performance.now();
    socket.addEventListener("open", () => { P.open = P.open || performance.now(); });
    socket.addEventListener("message", () => {
      if (!P.loaded) { P.messages = (P.messages || 0) + 1; P.last_message = performance.now(); }
    });
    return socket;
  };
  Object.assign(window.WebSocket, Native);
  window.WebSocket.prototype = Native.prototype;
  const shown = () => {
    for (const el of document.querySelectorAll(spec.selector)) {
      const text = (el.textContent || "").trim();
      if ((spec.text === "" || text.includes(spec.text)) && el.getClientRects().length > 0)
        return true;
    }
    return false;
  };
  const check = () => {
    const root = document.documentElement;
    if (!root || P.interactive) return;
    const now = performance.now();
    if (!P.hydrated && root.dataset.hydrated === "true") P.hydrated = now;
    if (!P.loaded && root.dataset.loaded === "true") P.loaded = now;
    if (P.hydrated && root.dataset.loaded === "true" && shown()) P.interactive = now;
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, characterData: true, attributes: true,
    attributeFilter: ["data-hydrated", "data-loaded", "style", "class", "hidden"],
  });
})(%s);
"""
JS_BYTES = """(interactive) => {
  const scripts = performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname.endsWith(".js"));
  const early = scripts.filter((e) => e.responseEnd <= interactive);
  return {
    files: scripts.length,
    transfer: scripts.reduce((sum, e) => sum + e.transferSize, 0),
    decoded: scripts.reduce((sum, e) => sum + e.decodedBodySize, 0),
    decoded_before: early.reduce((sum, e) => sum + e.decodedBodySize, 0),
  };
}"""


@dataclass
class Target:
    name: str
    app: str  # "floor" | "orgportal"
    path: str
    selector: str
    text: str = ""
    signed_in: bool = True
    cold: list[float] = field(default_factory=list)  # navigation start → interactive, ms
    warm: list[float] = field(default_factory=list)
    hydrated: list[float] = field(default_factory=list)  # → React hydrated (cold loads)
    marks: dict = field(default_factory=dict)  # cold loads' websocket marks (`split`)
    js: dict = field(default_factory=dict)  # the last cold load's JavaScript


def seed() -> tuple[str, str, str]:
    """The Owner's session cookie, email and organization name (through the services)."""
    from seed_big_org import seed_organization

    from orgportal.db import unit_of_work
    from orgportal.services import accounts

    name = "Page Load Co"
    with unit_of_work() as session:
        owner, org = seed_organization(session, name=name, members=3, invites=2, links=10)
        ticket = accounts.issue_sign_in_ticket(session, owner, org.id, browser="page-load")
        email = owner.email
    with unit_of_work() as session:
        cookie, _ = accounts.open_session(session, ticket, browser="page-load")
    return cookie, email, name


# The floor's bare page, added to the copy of orgportal that is measured: the same page in
# orgportal's app (its root, theme, states, routes and shared scripts), so the part of a
# page's load that is the app's, not the page's, shows on its own. A copy of floor_app.py's
# BareState and bare() on purpose: the two must stay the same page.
BARE_INSIDE_PATH = "/bench/bare"
BARE_INSIDE = f'''

class BenchBareState(rx.State):
    greeting: str = ""

    @rx.event
    def load(self):
        self.greeting = "Hello"


def _bench_bare() -> rx.Component:
    return rx.el.main(rx.el.p(BenchBareState.greeting, id="bare-data"))


app.add_page(_bench_bare, route="{BARE_INSIDE_PATH}", on_load=BenchBareState.load)
'''


def targets(email: str, org: str) -> list[Target]:
    return [
        Target("floor: bare page (one state var)", "floor", "/bare", "#bare-data", "Hello"),
        Target("the same bare page in orgportal's app", "orgportal", BARE_INSIDE_PATH,
               "#bare-data", "Hello", signed_in=False),
        Target("sign-in (/login)", "orgportal", "/login", "button[type=submit]", "Sign in",
               signed_in=False),
        Target("/organization", "orgportal", "/organization", "h1, h2, h3", org),
        Target("/organization/members", "orgportal", "/organization/members",
               f'[aria-label="Member {email}"]'),
        Target("/links", "orgportal", "/links", '[aria-label^="Link "]'),
        Target("/analytics", "orgportal", "/analytics", "#analytics-clicks"),
    ]  # fmt: skip


def wait_interactive(page, timeout_ms: float = 30_000) -> dict:
    page.wait_for_function("() => window.__pageLoad && window.__pageLoad.interactive > 0",
                           timeout=timeout_ms)  # fmt: skip
    return page.evaluate("() => window.__pageLoad")


def load_twice(browser: Browser, base: str, cookie: str, target: Target) -> tuple[dict, dict, dict]:
    """(cold marks, warm marks, cold JavaScript bytes) of one run of `target`."""
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    try:
        spec = {"selector": target.selector, "text": target.text}
        context.add_init_script(WATCH % json.dumps(spec))
        if target.signed_in:
            from orgportal.routes import SESSION_COOKIE

            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
        page = context.new_page()
        page.goto(target.path)
        cold = wait_interactive(page)
        page.wait_for_load_state("networkidle")  # scripts fetched after it count too
        js = page.evaluate(JS_BYTES, cold["interactive"])
        page.close()
        page = context.new_page()
        page.goto(target.path)
        warm = wait_interactive(page)
        page.close()
        return cold, warm, js
    finally:
        context.close()


def report(results: list[Target], runs: int) -> None:
    floor = results[0]
    cold_floor, warm_floor = statistics.median(floor.cold), statistics.median(floor.warm)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    print(
        f"\n{runs} runs, pages interleaved; navigation start → interactive (median); cold = "
        "fresh browser context (empty cache), warm = the same page again in that context; "
        "JS = the cold load's .js responses (files, transfer, decoded); target ≤ 1.3× floor\n"
    )
    print("| page | cold | ÷ floor | warm | ÷ floor | React hydrated (cold) "
          "| JS files | JS transfer | JS decoded | ÷ floor (decoded) "
          "| JS decoded by interactive |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for t in results:
        cold, warm = statistics.median(t.cold), statistics.median(t.warm)
        mark = "" if t is floor else (" ✓" if cold <= 1.3 * cold_floor else " ✗")
        wmark = "" if t is floor else (" ✓" if warm <= 1.3 * warm_floor else " ✗")
        print(
            f"| {t.name} | {cold:.0f} ms | {cold / cold_floor:.2f}×{mark} | {warm:.0f} ms "
            f"| {warm / warm_floor:.2f}×{wmark} | {statistics.median(t.hydrated):.0f} ms "
            f"| {t.js['files']} | {t.js['transfer']:,} B | {t.js['decoded']:,} B "
            f"| {t.js['decoded'] / max(1, floor.js['decoded']):.1f}× "
            f"| {t.js['decoded_before']:,} B |"
        )
    print(
        "\nAfter React hydrated (cold, medians, ms from navigation start): when the page's "
        "websocket was made and opened, the last message before the load events' data, and "
        "interactive\n"
    )
    print("| page | hydrated | socket made | socket open | load's data in | interactive |")
    print("|---|---|---|---|---|---|")
    for t in results:
        mark = {name: statistics.median(v) if v else 0 for name, v in t.marks.items()}
        print(
            f"| {t.name} | {statistics.median(t.hydrated):.0f} | {mark.get('socket', 0):.0f} "
            f"| {mark.get('open', 0):.0f} | {mark.get('last_message', 0):.0f} "
            f"| {statistics.median(t.cold):.0f} |"
        )


SHAPES = {  # path → (its data's element, text): benchmarks/shapes_app
    "/bare": ("#bare-data", "Hello"),
    "/heavy": ('[aria-label="Link link-11"]', ""),
    "/medium": ('[aria-label="Link link-11"]', ""),
    "/light": ('[aria-label="Link link-11"]', ""),
}


def shapes(runs: int) -> None:
    """`--shapes`: the same twelve-row table built three ways (`benchmarks/shapes_app`), cold
    loads interleaved run by run, next to the bare page of the same app: how much of a page
    load is its components' own cost in the browser, with no app around them."""
    from navigation import start_floor

    tmp = Path(tempfile.mkdtemp(prefix="page-shapes-"))
    port = free_port()
    app = start_floor(tmp, port, ROOT / "benchmarks" / "shapes_app", ready="/bare")
    marks: dict[str, list[dict]] = {path: [] for path in SHAPES}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for n in range(runs + 1):  # the first round warms the server up
                for path, (selector, text) in SHAPES.items():
                    context = browser.new_context(
                        base_url=f"http://localhost:{port}", viewport={"width": 1280, "height": 900}
                    )
                    spec = {"selector": selector, "text": text}
                    context.add_init_script(WATCH % json.dumps(spec))
                    page = context.new_page()
                    page.goto(path)
                    mark = wait_interactive(page)
                    context.close()
                    if n:
                        marks[path].append(mark)
            browser.close()
    finally:
        stop_app(app)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{runs} cold loads each, interleaved; medians in ms; load average {load}\n")
    print("| page | interactive | ÷ bare | React hydrated | hydrated → interactive |")
    print("|---|---|---|---|---|")
    bare = statistics.median(m["interactive"] for m in marks["/bare"])
    for path, measured in marks.items():
        done = statistics.median(m["interactive"] for m in measured)
        hydrated = statistics.median(m["hydrated"] for m in measured)
        after = statistics.median(m["interactive"] - m["hydrated"] for m in measured)
        print(f"| {path} | {done:.0f} | {done / bare:.2f}× | {hydrated:.0f} | {after:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", nargs="*", default=[], help="only these orgportal paths")
    parser.add_argument(
        "--shapes", action="store_true", help="what a page's components cost (shapes_app)"
    )
    # while working on it: measure apps already running (orgportal's database URL too)
    parser.add_argument("--app", default="", help=argparse.SUPPRESS)
    parser.add_argument("--floor", default="", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.shapes:
        shapes(args.runs)
        return

    tmp = Path(tempfile.mkdtemp(prefix="page-load-"))
    port = free_port()
    floor_port = next(p for p in iter(free_port, None) if p != port)
    env = {
        "PORT": str(port),
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
        "GRANIAN_WORKERS": "1",
    }
    os.environ.update(env)  # this process seeds the app's database through the services
    for name in ("REFLEX_DB_URL", "REDIS_URL", "REFLEX_REDIS_URL"):  # one worker, no Redis
        os.environ.pop(name, None)
    print(f"starting the apps (copies in {tmp}) …", flush=True)
    app = None if args.app else start_orgportal(tmp, env, extra_pages=BARE_INSIDE)
    floor_proc = None if args.floor else start_floor(tmp, floor_port)
    try:
        cookie, email, org = seed()
        bases = {
            "orgportal": args.app or env["PUBLIC_URL"],
            "floor": args.floor or f"http://localhost:{floor_port}",
        }
        def wanted(t: Target) -> bool:
            if t.path == BARE_INSIDE_PATH:  # only in the copy started here
                return not args.app
            return t.app == "floor" or not args.pages or t.path in args.pages

        results = [t for t in targets(email, org) if wanted(t)]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for t in results:  # warm up: the servers' first answers compile nothing twice
                load_twice(browser, bases[t.app], cookie, t)
            for n in range(args.runs):
                for t in results:
                    cold, warm, js = load_twice(browser, bases[t.app], cookie, t)
                    t.cold.append(cold["interactive"])
                    t.warm.append(warm["interactive"])
                    t.hydrated.append(cold["hydrated"])
                    for name in ("socket", "open", "last_message"):
                        t.marks.setdefault(name, []).append(cold.get(name, 0))
                    t.js = js
                print(f"  run {n + 1}/{args.runs} done", flush=True)
            browser.close()
        report(results, args.runs)
    finally:
        if app is not None:
            stop_app(app)
        if floor_proc is not None:
            stop_app(floor_proc)


if __name__ == "__main__":
    main()
