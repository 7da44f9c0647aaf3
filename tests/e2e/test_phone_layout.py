"""A phone (390×844): no page is wider than the screen, and the Menu button opens a panel
with the navigation, Switch Organization and Sign out."""

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import SIGNED_IN_PAGES, create_organization, register, unique_email
from tests.e2e.test_accessibility import assert_accessible

PHONE = {"width": 390, "height": 844}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# A card clips what overflows it, so the page can fit while a control is cut off: every
# visible button, link and field must also end inside the screen.
CUT_OFF = """() => [...document.querySelectorAll('main button, main a, main input, main select')]
  .filter((e) => e.offsetParent !== null && !e.closest('[aria-hidden="true"]'))
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map((e) => e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40) || e.tagName)"""
# Set SCREENSHOTS=<dir> to keep a picture of each page as a phone shows it.
SHOTS = os.environ.get("SCREENSHOTS")


def assert_fits(page: Page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    if SHOTS:
        name = what.strip("/").replace("/", "-") or "root"
        page.screenshot(path=str(Path(SHOTS) / f"phone-{name}.png"), full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(FITS), f"{what} is wider than the screen: {widths}"
    assert page.evaluate(CUT_OFF) == [], f"{what}: controls cut off at the right edge"


def open_menu(page: Page):
    page.get_by_role("button", name="Menu").click()
    menu = page.get_by_role("dialog", name="Menu")
    expect(menu).to_be_visible()
    return menu


def test_sign_in_and_register_fit_a_phone(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="orgportal")).to_be_visible()
    assert_fits(page, "/login")
    page.goto("/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_role("link", name="orgportal")).to_be_visible()
    assert_fits(page, "/register")
    page.goto("/password-reset")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert_fits(page, "/password-reset")
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_fits(page, "404")


def test_every_signed_in_page_fits_a_phone_and_the_menu_works(page: Page):
    page.set_viewport_size(PHONE)
    register(page, unique_email("phone"))
    assert_fits(page, "create form")
    # the desktop top bar is folded away: its nav and profile menu are not shown
    expect(page.get_by_role("button", name="Profile menu")).to_be_hidden()
    create_organization(page, "Phone Org One")
    open_menu(page).get_by_role("button", name="Create Organization").click()
    create_organization(page, "Phone Org Two")
    page.goto("/links")  # a row with a long target, so the links table has something to fit
    page.get_by_label("Target URL").fill("https://example.com/" + "a-long-path-segment/" * 6)
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_role("button", name=re.compile("^Copy short link"))).to_be_visible()

    pages = [("/organization", "Phone Org Two"), *SIGNED_IN_PAGES]
    for path, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
        assert_fits(page, path)

    # the menu: the navigation, the workspaces and Sign out, all usable on the phone
    page.goto("/links")
    expect(page.get_by_text("Workspace: Phone Org Two")).to_be_visible(timeout=20_000)
    menu = open_menu(page)
    expect(menu.get_by_role("link", name="Links")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_text("Switch Organization")).to_be_visible()
    expect(menu.get_by_role("button", name="Personal Workspace")).to_be_visible()
    assert_fits(page, "menu")
    assert_accessible(page, "the phone menu")
    menu.get_by_role("button", name="Phone Org One").click()
    expect(page.get_by_text("Workspace: Phone Org One")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/links")

    menu = open_menu(page)
    menu.get_by_role("link", name="My Files").click()
    expect(page.get_by_role("heading", name="My Files")).to_be_visible(timeout=20_000)

    open_menu(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
