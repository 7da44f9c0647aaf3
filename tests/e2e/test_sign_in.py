"""Sign-in: safe `next`, sign-out everywhere, lockout message, HttpOnly cookie."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import register, sign_in, unique_email


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_next_to_another_site_stays_on_this_site(page: Page, base_url):
    address = unique_email("next")
    register(page, address)
    _sign_out(page)
    page.goto("/login?next=https://other.site")
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible()
    assert page.url.startswith(base_url) and "/organization" in page.url


def test_next_path_on_this_site_is_followed(page: Page):
    address = unique_email("next2")
    register(page, address)
    _sign_out(page)
    page.goto("/organization/audit")  # guarded page sends us to sign in, then back
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in(page, address)
    expect(page).to_have_url(re.compile(r"/organization/audit"))
    expect(page.get_by_role("heading", name="Audit Log")).to_be_visible()


def test_session_cookie_is_http_only_and_sign_out_revokes_it(page: Page):
    register(page, unique_email("cookie"))
    assert page.evaluate("document.cookie").find("orgportal_session") == -1
    cookie = next(c for c in page.context.cookies() if c["name"] == "orgportal_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    second_tab = page.context.new_page()
    second_tab.goto("/organization")
    expect(second_tab.get_by_role("heading", name="Create an organization")).to_be_visible()
    _sign_out(page)
    # the other tab's live connection is refused at its next event
    second_tab.get_by_label("Organization Name").fill("Too Late")
    second_tab.get_by_role("button", name="Create Organization").click()
    expect(second_tab).to_have_url(re.compile(r"/login"))


def test_five_wrong_passwords_lock_the_email(page: Page):
    address = unique_email("lock")
    register(page, address)
    _sign_out(page)
    for _ in range(5):
        sign_in(page, address, "wrong password!!")
        expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
    sign_in(page, address)
    expect(page.get_by_text("Too many failed sign-in attempts")).to_be_visible()
