"""Account pre-hijacking, as people meet it: a stranger registers someone's address and never
confirms it. They get no API key, and when the address's owner proves it with a reset link,
everything the stranger set up is gone — their session, their organization — before she
joins the team that invited her."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    link_in,
    open_account_section,
    open_members,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
    wait_for_mail,
)
from tests.e2e.test_accessibility import assert_accessible

OWN_PASSWORD = "her very own passphrase"


@pytest.fixture
def stranger(browser: Browser, base_url):
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def test_a_pre_registered_address_is_cleared_when_its_owner_resets_and_joins(
    page: Page, stranger: Page, mail_dir
):
    victim, boss = unique_email("victim"), unique_email("boss")
    # the stranger registers her address, never confirms it, and sets up camp
    register(stranger, victim)
    create_organization(stranger, "Victim Co")
    open_account_section(stranger, "Sign-in & security")
    expect(stranger.get_by_role("heading", name="API keys")).to_be_visible(timeout=20_000)
    expect(stranger.get_by_text("Confirm your email address to create API keys")).to_be_visible()
    expect(stranger.get_by_role("button", name="Create API key")).to_have_count(0)

    # her team invites her
    register(page, boss)
    create_organization(page, "Real Team")
    open_members(page)
    invite(page, victim)
    page.context.clear_cookies()

    # she has no password for "her" account: Forgot password, and the page warns her
    page.goto("/password-reset")
    wait_for_hydration(page)
    page.get_by_label("Email").fill(victim)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)
    page.goto(urlsplit(link_in(wait_for_mail(mail_dir, victim, "Reset your"))).path)
    expect(page.get_by_text("was never confirmed")).to_be_visible(timeout=20_000)
    assert_accessible(page, "a reset link of an unconfirmed account")
    page.get_by_label("New password").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("What the account held before")).to_be_visible(timeout=20_000)

    # the stranger is out, and the organization they made is gone
    stranger.reload()
    expect(stranger.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)

    # she signs in with her own password and accepts the invitation
    sign_in(page, victim, OWN_PASSWORD)
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )  # "Victim Co" is not hers: she has no organization yet
    page.goto(urlsplit(link_in(wait_for_mail(mail_dir, victim, "invited you to join"))).path)
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="Real Team")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Profile menu").first.click()
    expect(page.get_by_role("menuitem", name="Victim Co")).to_have_count(0)
    page.keyboard.press("Escape")
    # her account is confirmed now: she may create API keys (asked for her password)
    open_account_section(page, "Sign-in & security")
    expect(page.get_by_label("Your password")).to_be_visible(timeout=20_000)
