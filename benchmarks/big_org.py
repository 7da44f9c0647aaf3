"""Do big organizations stay fast? Each page, small organization against big, in one run.

Starts the real app (`make run`) on a temporary SQLite database, seeds a small organization
(3 members, 2 invites, 10 links) and a big one (default: 1,000 members, 100 invites,
10,000 links) with scripts/seed_big_org.py, then opens every organization page in real
Chromium as each Owner and measures, per page (median of --runs loads, each in a fresh tab):

- "everything visible": the time of the page's last DOM change after navigation starts
  (measured once the page has been quiet — no websocket frame, no DOM change — for 1.5 s);
- websocket bytes received for that load;
- the longest main-thread task (Long Tasks API).

    .venv/bin/python benchmarks/big_org.py [--members 1000 --invites 100 --links 10000 --runs 3]
"""

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from usage_live import free_port, start_app  # noqa: E402

PAGES = (
    "/organization",
    "/organization/members",
    "/organization/billing",
    "/organization/support",
    "/organization/settings",
    "/organization/audit",
    "/links",
    "/files",
    "/tickets",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WATCH = """
window.__lastChange = 0;
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
}).observe({type: 'longtask', buffered: true});
document.addEventListener('DOMContentLoaded', () => {
  window.__lastChange = performance.now();
  new MutationObserver(() => { window.__lastChange = performance.now(); }).observe(
    document.documentElement,
    {subtree: true, childList: true, characterData: true, attributes: true},
  );
});
"""
QUIET_SECONDS = 1.5
# BIG_ORG_DUMP=<dir>: write each load's websocket frames there, to see what a page sends
DUMP = Path(os.environ["BIG_ORG_DUMP"]) if os.environ.get("BIG_ORG_DUMP") else None


def load(page: Page, url: str, frames: list) -> tuple[float, int, float]:
    """(ms until the last DOM change, websocket bytes, longest task ms) for one page load."""
    frames.clear()
    page.goto(url)
    while True:
        page.wait_for_timeout(250)
        quiet_dom = page.evaluate("performance.now() - window.__lastChange") / 1000
        last_frame = frames[-1][0] if frames else 0.0
        if quiet_dom > QUIET_SECONDS and time.monotonic() - last_frame > QUIET_SECONDS and frames:
            break
    visible = page.evaluate("window.__lastChange")
    longest = page.evaluate("Math.max(0, ...window.__longTasks)")
    if DUMP:
        name = url.strip("/").replace("/", "_") or "root"
        (DUMP / f"{name}-{len(list(DUMP.iterdir()))}.txt").write_text(
            "\n".join(str(payload) for _, _, payload in frames)
        )
    return visible, sum(size for _, size, _ in frames), longest


def measure(browser, base: str, cookie: str, runs: int) -> dict[str, tuple[float, int, float]]:
    """Each load in a fresh tab (its own client token), as a person opening the page does:
    a tab that visited other pages first would also be sent their states on hydrate."""
    load_in_new_tab(browser, base, cookie, "/organization")  # warm up: compile and cache
    results = {}
    for path in PAGES:
        samples = [load_in_new_tab(browser, base, cookie, path) for _ in range(runs)]
        results[path] = (
            statistics.median(s[0] for s in samples),
            int(statistics.median(s[1] for s in samples)),
            max(s[2] for s in samples),
        )
    return results


def load_in_new_tab(browser, base: str, cookie: str, path: str) -> tuple[float, int, float]:
    context = browser.new_context(base_url=base)
    context.add_cookies([{"name": "orgportal_session", "value": cookie, "url": base}])
    context.add_init_script(WATCH)
    page = context.new_page()
    frames: list[tuple[float, int, str]] = []

    def watch(ws) -> None:
        ws.on(
            "framereceived",
            lambda payload: frames.append((time.monotonic(), len(payload), payload)),
        )

    page.on("websocket", watch)
    try:
        return load(page, path, frames)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--invites", type=int, default=100)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="big-org-"))
    port = free_port()
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_DIR": str(tmp / "mail"),
        "DATA_DIR": str(tmp / "data"),
        "PUBLIC_URL": f"http://localhost:{port}",
    }
    os.environ.update(env)
    proc = start_app(["make", "run"], ROOT, env, tmp / "app.log", "/organization")
    try:
        from seed_big_org import seed_organization

        from orgportal.db import unit_of_work
        from orgportal.services import accounts

        cookies = {}
        for label, size in (
            ("small", (3, 2, 10)),
            ("big", (args.members, args.invites, args.links)),
        ):
            with unit_of_work() as session:
                owner, org = seed_organization(
                    session, name=f"{label} org", members=size[0], invites=size[1], links=size[2]
                )
                ticket = accounts.issue_sign_in_ticket(session, owner, org.id, browser="bench")
            with unit_of_work() as session:
                cookies[label], _ = accounts.open_session(session, ticket, browser="bench")

        base = env["PUBLIC_URL"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            small = measure(browser, base, cookies["small"], args.runs)
            big = measure(browser, base, cookies["big"], args.runs)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    print(
        f"big organization: {args.members:,} members, {args.invites:,} invites, "
        f"{args.links:,} links; median of {args.runs} loads per page"
    )
    header = (
        f"{'page':24} {'visible small':>13} {'big':>7} {'ratio':>6}  "
        f"{'ws bytes small':>14} {'big':>8} {'ratio':>6}  {'longest task big':>16}"
    )
    print(header)
    for path in PAGES:
        (ms_s, bytes_s, _), (ms_b, bytes_b, task_b) = small[path], big[path]
        print(
            f"{path:24} {ms_s:11.0f}ms {ms_b:5.0f}ms {ms_b / ms_s:5.2f}x  "
            f"{bytes_s:14,} {bytes_b:8,} {bytes_b / max(1, bytes_s):5.2f}x  {task_b:14.0f}ms"
        )


if __name__ == "__main__":
    main()
