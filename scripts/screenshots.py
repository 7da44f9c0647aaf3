"""Screenshots of the main pages at desktop and phone size, for docs/screenshots/.

Run against a running app (e.g. `make run`, then `.venv/bin/python scripts/screenshots.py
http://localhost:3000`): registers a new user with an organization, visits each page and
saves `<page>-desktop.png` (1280×900) and `<page>-phone.png` (390×844).
"""

import re
import sys
import uuid
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = [
    ("overview", "/organization"),
    ("members", "/organization/members"),
    ("billing", "/organization/billing"),
    ("support", "/organization/support"),
    ("settings", "/organization/settings"),
    ("domains", "/organization/domains"),
    ("links", "/links"),
    ("projects", "/projects"),
    ("analytics", "/analytics"),
    ("files", "/files"),
    ("tickets", "/tickets"),
    ("account", "/account"),
    ("account-security", "/account/security"),
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
PASSWORD = "correct horse battery"


def main(base_url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=base_url, viewport={"width": 1280, "height": 900})
        page.goto("/login")  # signed out: the sign-in page as a visitor sees it
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"sign-in-{size}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/register")
        page.get_by_label("First name").fill("Ada")
        page.get_by_label("Last name").fill("Lovelace")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)
        page.get_by_role("link", name="Sign in").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
            timeout=20_000
        )
        page.get_by_label("Organization Name").fill("Acme Marketing Team")
        page.get_by_role("button", name="Create Organization").click()
        expect(page.get_by_role("heading", name="Acme Marketing Team")).to_be_visible(
            timeout=20_000
        )
        page.goto("/links")  # a link, so the table shows a row with its clicks
        page.get_by_label("Target URL").fill("https://example.com/spring-sale")
        page.get_by_role("button", name="Create Link").click()
        expect(page.get_by_role("button", name=re.compile("^Copy short link"))).to_be_visible(
            timeout=20_000
        )
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            for name, path in PAGES:
                page.goto(path)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(500)
                page.screenshot(path=OUT / f"{name}-{size}.png", full_page=True)
                print(OUT / f"{name}-{size}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:3000")
