"""Two-factor sign-in and an organization's Security settings, as people do them (SPEC §13):
set up 2FA from the shown secret, sign in with a code; an organization that requires 2FA
sends a member without it to set it up while their Personal Workspace still works; an IP
allowlist without the browser's address blocks a member."""

import re
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    join_as_new_user,
    open_billing,
    open_members,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
)
from tests.e2e.test_accessibility import assert_accessible

LOOPBACK = re.compile(r"^(127\.0\.0\.1|::1)$")


def set_up_two_factor(page: Page) -> str:
    """On Account's Sign-in & security: scan (read) the secret, confirm with a code, keep the
    recovery codes."""
    page.goto("/account/security")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_accessible(page, "two-factor set-up")
    secret = page.locator("#two-factor-secret").inner_text().strip()
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10, timeout=20_000)
    return secret


def next_code(secret: str) -> str:
    """The next step's code: inside the ±1 window, and never the one just used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Profile menu").first.click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)


def subscribe_professional(page: Page) -> None:
    open_billing(page)
    page.get_by_label("Plan", exact=True).select_option("Professional")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#plan-name")).to_have_text("Professional", timeout=20_000)


def open_security(page: Page):
    page.goto("/organization/settings")
    card = page.get_by_role("form", name="Security settings")
    expect(card).to_be_visible(timeout=20_000)
    return card


def test_set_up_two_factor_then_sign_in_needs_the_code(page: Page, tmp_path: Path):
    address = unique_email("twofactor")
    register(page, address)
    secret = set_up_two_factor(page)
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert_accessible(page, "recovery codes")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as text file").click()
    saved = tmp_path / "codes.txt"
    download.value.save_as(saved)
    assert all(code.strip() in saved.read_text() for code in codes)
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("main").get_by_text("Two-factor sign-in is on.")).to_be_visible()

    sign_out(page)
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(timeout=20_000)
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    assert_accessible(page, "the sign-in code step")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Authentication code").fill(next_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )

    # a recovery code works too, once
    sign_out(page)
    sign_in(page, address)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )
    page.goto("/account/security")
    expect(page.get_by_text("9 unused recovery codes left.")).to_be_visible(timeout=20_000)
    assert_accessible(page, "account with two-factor sign-in on")
    # the gate pages, reached with nothing refusing: they say so and offer to continue
    for path, heading in (
        ("/security/two-factor", "Set up two-factor sign-in to continue"),
        ("/security/blocked", "Your address is not allowed"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=20_000)
        expect(page.get_by_role("button", name="Continue")).to_be_visible()
        assert_accessible(page, path)


def test_an_organization_requiring_two_factor_and_an_allowlist(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    owner = unique_email("secure-owner")
    register(page, owner)
    create_organization(page, "Secure Co")
    # the Security card is locked on the Free plan, with the reason
    page.goto("/organization/settings")
    expect(page.locator("#security-locked")).to_contain_text(
        "available on the Professional and Unlimited plans", timeout=20_000
    )
    page.goto("/organization")
    subscribe_professional(page)

    # a member without two-factor sign-in
    page.goto("/organization/members")
    member_address = unique_email("secure-member")
    invite(page, member_address)
    member_context = browser.new_context(base_url=base_url)
    member = member_context.new_page()
    join_as_new_user(member, mail_dir, member_address)

    # the Owner turns it on for themselves, then requires it
    owner_secret = set_up_two_factor(page)
    card = open_security(page)
    assert_accessible(page, "the Security card")
    card.get_by_label("Require two-factor sign-in").check()
    card.get_by_role("button", name="Save Security").click()
    expect(page.get_by_text("Security settings saved.")).to_be_visible(timeout=20_000)
    page.goto("/organization")
    open_members(page)
    expect(page.get_by_role("columnheader", name="Two-factor")).to_be_visible()
    expect(page.get_by_label(f"Member {owner}")).to_contain_text("On")
    expect(page.get_by_label(f"Member {member_address}")).to_contain_text("Off")

    # the member is sent to set it up; their Personal Workspace still works
    member.goto("/organization")
    expect(
        member.get_by_role("heading", name="Set up two-factor sign-in to continue")
    ).to_be_visible(timeout=20_000)
    expect(member.get_by_text("Secure Co requires two-factor sign-in")).to_be_visible()
    assert_accessible(member, "set up two-factor sign-in to continue")
    member.goto("/links")
    expect(
        member.get_by_role("heading", name="Set up two-factor sign-in to continue")
    ).to_be_visible(timeout=20_000)
    member.get_by_role("button", name="Switch to Personal Workspace").click()
    expect(member.get_by_role("heading", name="Personal Workspace")).to_be_visible(
        timeout=20_000
    )  # a member of an organization: the Personal Workspace's overview
    member.goto("/links")
    expect(member.get_by_role("heading", name="Links", exact=True)).to_be_visible(timeout=20_000)

    # an allowlist without the browser's address: the Owner is warned before saving it
    card = open_security(page)
    card.get_by_label("IP allowlist").fill("198.51.100.0/24")
    card.get_by_role("button", name="Save Security").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("is not on this list")
    assert_accessible(page, "the own-address warning")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    card.get_by_role("button", name="Save Security").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Save anyway").click()

    # the member, back in the organization, is refused with the address the app saw
    switch_to(member, "Secure Co")
    expect(member.get_by_role("heading", name="Your address is not allowed")).to_be_visible(
        timeout=20_000
    )
    expect(member.locator("#seen-address")).to_have_text(LOOPBACK)
    assert_accessible(member, "address not allowed")
    member_context.close()

    # through a trusted proxy, from an allowed address, the Owner gets in (with their code)
    proxied = browser.new_context(
        base_url=base_url, extra_http_headers={"X-Forwarded-For": "198.51.100.7"}
    )
    office = proxied.new_page()
    office.goto("/login")
    wait_for_hydration(office)
    sign_in(office, owner)
    expect(office.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(
        timeout=20_000
    )
    office.get_by_label("Authentication code").fill(next_code(owner_secret))
    office.get_by_role("button", name="Verify").click()
    # a new session reopens the workspace last used
    expect(office.get_by_role("heading", name="Secure Co")).to_be_visible(timeout=20_000)
    office.goto("/organization/settings")
    expect(office.get_by_role("form", name="Security settings")).to_be_visible(timeout=20_000)
    expect(office.locator("#my-address")).to_have_text("198.51.100.7")
    proxied.close()


def switch_to(page: Page, workspace: str) -> None:
    page.get_by_role("button", name="Profile menu").first.click()
    page.get_by_role("menuitem", name=re.compile(re.escape(workspace))).click()
