"""Account recovery and self-service as a person does them (SPEC §13), reading the real .eml
files the app wrote: forgot password, email change, sessions, password change, deleting the
account."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_email,
    confirm_in_dialog,
    create_organization,
    link_in,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
    wait_for_mail,
)
from tests.e2e.test_accessibility import assert_accessible

NEW_PASSWORD = "a fresh passphrase 42"
SIGNED_IN = re.compile(r"/organization")


@pytest.fixture
def other_page(browser: Browser, base_url):
    """The same person in a second browser."""
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def signed_in_elsewhere(page: Page, address: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    sign_in(page, address, password)
    expect(page).to_have_url(SIGNED_IN, timeout=20_000)


def open_account(page: Page, section: str = "/account", heading: str = "Profile") -> None:
    """A section of the Account page (Profile, Sign-in & security, Sessions, Plan;
    /account shows Profile)."""
    page.goto(section)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=20_000)
    # React has taken over the page (not every section has a form to wait for), and the
    # page's load events have run: a form filled before then is mounted again, emptied, by
    # the load's values (components/hydration.py sets both attributes)
    page.wait_for_function(
        "() => Object.keys(document.querySelector('main') || {})"
        ".some(k => k.startsWith('__react'))"
        " && document.documentElement.dataset.loaded === 'true'",
        timeout=30_000,
    )


def expect_signed_out(page: Page) -> None:
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)


def test_forgot_password_sets_a_new_one_and_signs_out_the_old_session(
    page: Page, other_page: Page, mail_dir
):
    address = unique_email("forgetful")
    register(other_page, address)  # the old session, in another browser
    confirm_email(other_page, mail_dir, address)  # an unconfirmed one would be cleared

    page.goto("/login")
    wait_for_hydration(page)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    wait_for_hydration(page)
    page.get_by_label("Email").fill(address.upper())
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)
    expect(page.locator("#reset-sent-to")).to_have_text(address)

    # an unknown address gets the very same answer (and no mail)
    page.get_by_role("button", name="Use a different email").click()
    page.get_by_label("Email").fill(unique_email("nobody"))
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)

    link = link_in(wait_for_mail(mail_dir, address, "Reset your orgportal password"))
    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.get_by_text(address)).to_be_visible(timeout=20_000)
    assert_accessible(page, "the reset link's form")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator("#password-error")).to_contain_text("at least 10 characters")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()

    expect(page.get_by_text("Your password has been changed")).to_be_visible(timeout=20_000)
    sign_in(page, address, NEW_PASSWORD)
    expect(page).to_have_url(SIGNED_IN, timeout=20_000)

    expect_signed_out(other_page)  # the old session ended
    sign_in(other_page, address, PASSWORD)  # and the old password is gone
    expect(other_page.get_by_text("Email or password is incorrect.")).to_be_visible()

    page.goto(urlsplit(link).path)  # the link worked once
    expect(page.get_by_text("This password reset link has already been used")).to_be_visible(
        timeout=20_000
    )
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()


def test_email_change_waits_for_the_link_sent_to_the_new_address(page: Page, mail_dir):
    old, new = unique_email("old"), unique_email("new")
    register(page, old)
    open_account(page)
    form = page.get_by_role("form", name="Change email")
    form.get_by_label("New email").fill(new)
    form.get_by_label("Current password").fill("not my password")
    form.get_by_role("button", name="Change email").click()
    expect(page.locator("#email_password-error")).to_have_text(
        "Your current password is incorrect."
    )
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Change email").click()
    expect(page.locator("#pending-email")).to_have_text(new, timeout=20_000)

    notice = wait_for_mail(mail_dir, old, "about to change")
    assert new in notice.get_payload(decode=True).decode()
    link = link_in(wait_for_mail(mail_dir, new, "Confirm your new orgportal email address"))
    page.goto(urlsplit(link).path)
    expect(page.get_by_text(f"Your email address is now {new}.")).to_be_visible(timeout=20_000)
    page.get_by_role("link", name="Continue to your account").click()
    expect(page.get_by_text(f"Your email is {new}.")).to_be_visible(timeout=20_000)
    expect(page.locator("#pending-email")).to_have_count(0)

    page.goto(urlsplit(link).path)
    expect(page.get_by_text("already been used")).to_be_visible(timeout=20_000)


def test_sessions_profile_password_and_sign_out_everywhere_else(page: Page, other_page: Page):
    address = unique_email("sessions")
    register(page, address)
    signed_in_elsewhere(other_page, address)
    open_account(page, "/account/sessions", "Sessions")

    sessions = page.get_by_role("table").filter(has_text="This session")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    expect(sessions).to_contain_text("Chrome")
    expect(sessions).to_contain_text(re.compile(r"127\.0\.0\.1|::1"))

    open_account(page)
    profile = page.get_by_role("form", name="Profile")
    profile.get_by_label("First name").fill("Grace")
    profile.get_by_label("Last name").fill("Hopper")
    profile.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Grace Hopper", exact=False).first).to_be_visible(timeout=20_000)

    open_account(page, "/account/sessions", "Sessions")
    confirm_in_dialog(
        page,
        page.get_by_role("button", name="Sign out everywhere else"),
        "Sign out other sessions",
    )
    expect(page.get_by_text("Signed out 1 other session.")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("This is your only session.")).to_be_visible()
    expect_signed_out(other_page)

    signed_in_elsewhere(other_page, address)
    open_account(page, "/account/security", "Password")
    change = page.get_by_role("form", name="Change password")
    change.get_by_label("Current password").fill("wrong password here")
    change.get_by_label("New password").fill(NEW_PASSWORD)
    change.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-error")).to_have_text(
        "Your current password is incorrect."
    )
    change.get_by_label("Current password").fill(PASSWORD)
    change.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed. 1 other session signed out.")).to_be_visible(
        timeout=20_000
    )
    expect_signed_out(other_page)
    sign_in(other_page, address, NEW_PASSWORD)
    expect(other_page).to_have_url(re.compile(r"/account"), timeout=20_000)


def test_an_owner_cannot_delete_their_account_and_a_member_can(page: Page):
    owner = unique_email("owner")
    register(page, owner)
    create_organization(page, "Kept Org")
    open_account(page)
    expect(page.locator("#delete-blocked")).to_contain_text("You own Kept Org")
    expect(page.get_by_role("button", name="Delete account", exact=True)).to_be_disabled()
    page.context.clear_cookies()

    leaver = unique_email("leaver")
    register(page, leaver)
    open_account(page)
    page.get_by_role("button", name="Delete account", exact=True).click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_label("Your email").fill(leaver)
    dialog.get_by_label("Password").fill("wrong password here")
    dialog.get_by_role("button", name="Delete account permanently").click()
    expect(dialog.locator("#delete_password-error")).to_have_text(
        "Your current password is incorrect."
    )
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Delete account permanently").click()
    expect(page.get_by_text("Your account has been deleted.")).to_be_visible(timeout=20_000)
    sign_in(page, leaver)
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
