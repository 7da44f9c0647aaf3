"""Passkeys as people use them (SPEC §16), with Chromium's own virtual authenticator (CDP
`WebAuthn.addVirtualAuthenticator`: a CTAP2 platform authenticator that stores discoverable
credentials and verifies the user): add a passkey on Account → Sign-in & security, sign out,
sign in with the passkey alone, then with the password followed by the passkey as the
second step, and remove it. WebAuthn needs a secure context: the app runs at
http://localhost (PUBLIC_URL), which is one."""

import re
from pathlib import Path

from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_email,
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_two_factor import open_security, sign_out, subscribe_professional


def add_virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def stored_credentials(cdp: CDPSession, authenticator: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]


def open_passkeys(page: Page):
    page.goto("/account/security")
    card = page.get_by_role("form", name="Add a passkey")
    expect(card).to_be_visible(timeout=20_000)
    wait_for_hydration(page)
    return card


def test_add_a_passkey_sign_in_with_it_use_it_as_second_step_and_remove_it(
    page: Page, mail_dir: Path
):
    assert page.url == "about:blank"
    address = unique_email("passkey")
    register(page, address)
    assert page.url.startswith("http://localhost:"), page.url  # a secure context
    cdp, authenticator = add_virtual_authenticator(page)

    # add: a name and the password, then the browser's passkey dialog; first the address
    # is confirmed (a passkey would outlive someone else proving it)
    form = open_passkeys(page)
    expect(page.get_by_text("No passkeys yet.")).to_be_visible()
    form.get_by_label("Name of the passkey").fill("Work laptop")
    form.get_by_label("Password to confirm").fill(PASSWORD)
    form.get_by_role("button", name="Add a passkey").click()
    expect(form.get_by_text("Confirm your email address before adding a passkey")).to_be_visible()
    confirm_email(page, mail_dir, address)
    form = open_passkeys(page)
    form.get_by_label("Name of the passkey").fill("Work laptop")
    form.get_by_label("Password to confirm").fill("not my password")
    form.get_by_role("button", name="Add a passkey").click()
    expect(form.get_by_text("Your current password is incorrect.")).to_be_visible()
    assert stored_credentials(cdp, authenticator) == []
    form.get_by_label("Password to confirm").fill(PASSWORD)
    form.get_by_role("button", name="Add a passkey").click()
    row = page.get_by_role("row", name="Passkey Work laptop")
    expect(row).to_be_visible(timeout=20_000)
    expect(row).to_contain_text("Never")
    credentials = stored_credentials(cdp, authenticator)
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    assert credentials[0]["rpId"] == "localhost"
    assert_accessible(page, "account with a passkey")
    # the same device again: the options exclude its passkey, the browser refuses
    form.get_by_label("Name of the passkey").fill("Same laptop")
    form.get_by_label("Password to confirm").fill(PASSWORD)
    form.get_by_role("button", name="Add a passkey").click()
    expect(form.get_by_text("This device already holds a passkey for your account.")).to_be_visible(
        timeout=20_000
    )
    assert len(stored_credentials(cdp, authenticator)) == 1

    # password-less: no email, the passkey names the account
    sign_out(page)
    wait_for_hydration(page)
    assert_accessible(page, "/login with the passkey button")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )
    open_passkeys(page)
    expect(page.get_by_role("row", name="Passkey Work laptop")).not_to_contain_text("Never")

    # the password first, then the passkey instead of a code (the account has no app)
    sign_out(page)
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Authentication code")).to_have_count(0)
    assert_accessible(page, "the passkey second step")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )
    counter = stored_credentials(cdp, authenticator)[0]["signCount"]
    assert counter >= 2  # each use moved the authenticator's counter on

    # remove: confirmed with the password
    open_passkeys(page)
    page.get_by_role("button", name="Remove passkey Work laptop").click()
    dialog = page.get_by_role("alertdialog", name="Remove passkey")
    expect(dialog).to_be_visible()
    assert_accessible(page, "the remove passkey dialog")
    dialog.get_by_label("Password to confirm").fill("not my password")
    dialog.get_by_role("button", name="Remove passkey", exact=True).click()
    expect(dialog.get_by_text("Your current password is incorrect.")).to_be_visible()
    dialog.get_by_label("Password to confirm").fill(PASSWORD)
    dialog.get_by_role("button", name="Remove passkey", exact=True).click()
    expect(dialog).to_be_hidden(timeout=20_000)
    expect(page.get_by_text("No passkeys yet.")).to_be_visible()

    # the removed passkey no longer signs in, and the password alone does again
    sign_out(page)
    wait_for_hydration(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text("This passkey is not registered")).to_be_visible(timeout=20_000)
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(
        timeout=20_000
    )


def add_passkey(page: Page, name: str) -> None:
    """On a page showing the Passkeys card: name it, confirm with the password, and let the
    (virtual) authenticator make it."""
    form = page.get_by_role("form", name="Add a passkey")
    wait_for_hydration(page)
    form.get_by_label("Name of the passkey").fill(name)
    form.get_by_label("Password to confirm").fill(PASSWORD)
    form.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("row", name=f"Passkey {name}")).to_be_visible(timeout=20_000)


def test_an_organization_requiring_two_factor_accepts_a_passkey(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    owner = unique_email("pk-owner")
    register(page, owner)
    confirm_email(page, mail_dir, owner)
    create_organization(page, "Passkey Co")
    subscribe_professional(page)
    open_members(page)
    member_address = unique_email("pk-member")
    invite(page, member_address)
    member_context = browser.new_context(base_url=base_url)
    try:
        member = member_context.new_page()
        join_as_new_user(member, mail_dir, member_address)

        # the Owner's own second factor is a passkey; then the organization requires one
        add_virtual_authenticator(page)
        open_passkeys(page)
        add_passkey(page, "Owner laptop")
        card = open_security(page)
        card.get_by_label("Require two-factor sign-in").check()
        card.get_by_role("button", name="Save Security").click()
        expect(page.get_by_text("Security settings saved.")).to_be_visible(timeout=20_000)

        # the member is sent to set it up, adds a passkey there, and continues
        add_virtual_authenticator(member)
        member.goto("/organization")
        expect(
            member.get_by_role("heading", name="Set up two-factor sign-in to continue")
        ).to_be_visible(timeout=20_000)
        expect(member.get_by_role("button", name="Continue")).to_have_count(0)
        add_passkey(member, "Member phone")
        assert_accessible(member, "the two-factor gate with a passkey added")
        member.get_by_role("button", name="Continue").click()
        expect(member.get_by_role("heading", name="Passkey Co")).to_be_visible(timeout=20_000)

        page.goto("/organization")
        open_members(page)
        expect(page.get_by_label(f"Member {owner}")).to_contain_text("On")
        expect(page.get_by_label(f"Member {member_address}")).to_contain_text("On")
    finally:
        member_context.close()
