"""A click made before the page works is not lost (assets/before_hydration.js).

The page's scripts are held back (a slow network): the prerendered page shows, React has not
taken it over. A click on a button then is held, the button says so (aria-busy, dimmed, a
progress cursor), and once the scripts arrive and React has hydrated the page the click is
made again: its effect happens.
"""

import re
import time

from playwright.sync_api import Page, Route, expect

from tests.e2e.helpers import PASSWORD, register, unique_email

SCRIPTS = re.compile(r".*/assets/.*\.js(\?.*)?$")  # Reflex's bundles (the click guard is inline)


class HeldScripts:
    """Holds every request for the app's bundles until `release()`."""

    def __init__(self, page: Page):
        self.page = page
        self.held: list[Route] | None = []
        page.route(SCRIPTS, self.hold)

    def hold(self, route: Route) -> None:
        if self.held is None:
            route.continue_()
        else:
            self.held.append(route)

    def release(self) -> None:
        held, self.held = self.held or [], None
        for route in held:
            route.continue_()


def _not_hydrated(page: Page) -> None:
    assert page.evaluate("document.documentElement.dataset.hydrated") is None


def _held_busy(page: Page, button) -> None:
    expect(button).to_have_attribute("aria-busy", "true")
    assert float(button.evaluate("b => getComputedStyle(b).opacity")) < 1  # seen as waiting
    assert button.evaluate("b => getComputedStyle(b).cursor") == "progress"


def test_sign_in_pressed_before_the_page_works_signs_in_once_it_does(page: Page):
    address = unique_email("early")
    register(page, address)
    page.context.clear_cookies()  # signed out, the account exists

    scripts = HeldScripts(page)
    page.goto("/login", wait_until="commit")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    button = page.get_by_role("button", name="Sign in", exact=True)
    button.click()
    time.sleep(0.5)  # the bare page had every chance to do something with it
    _not_hydrated(page)
    _held_busy(page, button)
    assert PASSWORD not in page.url and "password" not in page.url.lower()

    scripts.release()
    # the held click is made again once React is there: it signs in
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=30_000)
    assert page.evaluate("document.documentElement.dataset.hydrated") == "true"
    assert PASSWORD not in page.url


def test_a_form_sent_with_enter_before_the_page_works_is_sent_once_it_does(page: Page):
    scripts = HeldScripts(page)
    page.goto("/register", wait_until="commit")
    address = unique_email("enter")
    page.get_by_label("First name").fill("Early")
    page.get_by_label("Last name").fill("Bird")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the browser clicks the submit button
    button = page.get_by_role("button", name="Create account")
    _not_hydrated(page)
    _held_busy(page, button)

    scripts.release()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=30_000)
    expect(page.locator("#register-sent-to")).to_have_text(address)
    # the page works now: nothing is held any more
    assert page.locator("[data-held-click]").count() == 0


class HeldFrames:
    """The page's websocket to the app, with the app's frames to the page held until
    `release()` (a slow connection: React has hydrated the page, its load events have not
    come back yet)."""

    def __init__(self, page: Page):
        self.frames: list | None = []
        page.route_web_socket(re.compile(r".*/_event.*"), self.connect)

    def connect(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message))
        server.on_message(self.to_page(ws))

    def to_page(self, ws):
        def forward(message) -> None:
            if self.frames is None:
                ws.send(message)
            else:
                self.frames.append((ws, message))

        return forward

    def release(self) -> None:
        frames, self.frames = self.frames or [], None
        for ws, message in frames:
            ws.send(message)


def test_create_account_pressed_before_the_pages_load_events_ran_is_not_undone(page: Page):
    """The registration page's load event shows a fresh form. A Create account pressed after
    hydration but before that load came back used to be handled first, and its "check your
    inbox" undone by the load: now the press waits for the page's load, then is made."""
    frames = HeldFrames(page)
    page.goto("/register")
    page.wait_for_function("document.documentElement.dataset.hydrated === 'true'")
    address = unique_email("before-load")
    page.get_by_label("First name").fill("Early")
    page.get_by_label("Last name").fill("Bird")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    button = page.get_by_role("button", name="Create account")
    button.click()
    time.sleep(0.5)
    assert page.evaluate("document.documentElement.dataset.loaded") != "true"
    _held_busy(page, button)

    frames.release()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=30_000)
    expect(page.locator("#register-sent-to")).to_have_text(address)
    time.sleep(1.0)  # nothing comes afterwards to undo it
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
