"""Where a sign-in lands (SPEC §1): the workspace last used, remembered per user;
the switcher lists the most recent first; a person with organizations sees the Personal
Workspace's overview, not the create form. And the invitation's Sign in (SPEC §4): the
invited email filled in, accepted without a second click; Decline asks first."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_email,
    confirm_in_dialog,
    create_organization,
    invite,
    link_in,
    open_members,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
    wait_for_mail,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_phone_layout import PHONE, assert_fits

SUBJECT = "invited you to join"


@pytest.fixture
def other_page(browser: Browser, base_url):
    """A second person in their own browser context."""
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def invite_path(mail_dir, address: str) -> str:
    return urlsplit(link_in(wait_for_mail(mail_dir, address, SUBJECT))).path


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)


def sign_in_again(page: Page, address: str) -> None:
    sign_out(page)
    sign_in(page, address)


def switch_to(page: Page, workspace: str) -> None:
    """Switch (no page load: the page is filled in place or changes client-side)."""
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name=workspace).click()
    expect(page.get_by_role("button", name="Profile menu")).to_contain_text(
        workspace, timeout=20_000
    )


def switcher_order(page: Page) -> list[str]:
    """The workspaces the profile menu lists under Switch Organization, top to bottom."""
    page.get_by_role("button", name="Profile menu").click()
    items = page.get_by_role("menu").get_by_role("menuitem")
    expect(items.first).to_be_visible()
    names = [text.strip() for text in items.all_inner_texts()]
    page.keyboard.press("Escape")
    return names[: names.index("Create Organization")]


def test_a_returning_owner_lands_in_their_organization(page: Page):
    address = unique_email("returning")
    register(page, address)  # a new user: the create form
    create_organization(page, "Return Co")
    sign_in_again(page, address)
    expect(page.get_by_role("heading", name="Return Co")).to_be_visible(timeout=20_000)
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.get_by_role("heading", name="Create an organization")).to_have_count(0)

    # the Personal Workspace chosen last is reopened too: its own overview, not the form
    switch_to(page, "Personal Workspace")
    sign_in_again(page, address)
    expect(page.get_by_role("heading", name="Personal Workspace")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Create an organization")).to_have_count(0)
    organizations = page.get_by_role("list", name="Your organizations")
    expect(organizations).to_contain_text("Return Co")
    expect(organizations).to_contain_text("Owner")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    assert_accessible(page, "the Personal Workspace overview")

    # the form only when asked for
    page.get_by_role("button", name="Create an organization").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/organization/new")
    page.go_back()
    page.get_by_role("button", name="Open Return Co").click()
    expect(page.get_by_role("heading", name="Return Co")).to_be_visible(timeout=20_000)
    sign_in_again(page, address)
    expect(page.get_by_role("heading", name="Return Co")).to_be_visible(timeout=20_000)


def test_the_personal_workspace_overview_fits_a_phone(page: Page):
    register(page, unique_email("phone-landing"))
    create_organization(page, "A Rather Long Organization Name For A Phone")
    switch_to(page, "Personal Workspace")
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("heading", name="Personal Workspace")).to_be_visible(timeout=20_000)
    expect(
        page.get_by_role("button", name="Open A Rather Long Organization Name For A Phone")
    ).to_be_visible()
    assert_fits(page, "the Personal Workspace overview")


def test_an_invited_agent_lands_in_the_organization_on_a_later_sign_in(
    page: Page, other_page: Page, mail_dir
):
    register(page, unique_email("agency-owner"))
    create_organization(page, "Agency Co")
    open_members(page)
    agent = unique_email("agent")
    invite(page, agent, "Agent")

    other_page.goto(invite_path(mail_dir, agent))
    other_page.get_by_label("First name").fill("Ada")
    other_page.get_by_label("Last name").fill("Agent")
    other_page.get_by_label("Password").fill(PASSWORD)
    other_page.get_by_role("button", name="Create account and join").click()
    expect(other_page.get_by_role("heading", name="Agency Co")).to_be_visible(timeout=20_000)

    sign_in_again(other_page, agent)
    expect(other_page.get_by_role("heading", name="Agency Co")).to_be_visible(timeout=20_000)
    expect(other_page.locator("#role-badge")).to_have_text("Agent")
    expect(other_page.get_by_role("heading", name="Create an organization")).to_have_count(0)


def test_the_switcher_lists_the_most_recent_first(page: Page):
    address = unique_email("switcher")
    register(page, address)
    for name in ("Org One", "Org Two", "Org Three"):
        if name != "Org One":
            page.goto("/organization/new")
            wait_for_hydration(page)
        create_organization(page, name)
    assert switcher_order(page) == ["Personal Workspace", "Org Three", "Org Two", "Org One"]
    switch_to(page, "Org One")
    assert switcher_order(page) == ["Personal Workspace", "Org One", "Org Three", "Org Two"]
    # per user, not per browser session: a new sign-in keeps the order and the workspace
    sign_in_again(page, address)
    expect(page.get_by_role("heading", name="Org One")).to_be_visible(timeout=20_000)
    assert switcher_order(page) == ["Personal Workspace", "Org One", "Org Three", "Org Two"]


def test_decline_asks_first(page: Page, other_page: Page, mail_dir):
    member = unique_email("hesitant")
    register(other_page, member)
    register(page, unique_email("decline-owner"))
    create_organization(page, "Asking Co")
    open_members(page)
    invite(page, member)
    path = invite_path(mail_dir, member)

    other_page.goto(path)
    other_page.get_by_role("button", name="Decline", exact=True).click()
    dialog = other_page.get_by_role("alertdialog", name="Decline the invitation to Asking Co?")
    expect(dialog).to_be_visible()
    assert_accessible(other_page, "the decline confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(other_page.get_by_role("button", name="Accept")).to_be_visible()  # nothing changed

    confirm_in_dialog(
        other_page,
        other_page.get_by_role("button", name="Decline", exact=True),
        "Decline invitation",
    )
    expect(other_page.get_by_text("You declined the invitation to Asking Co.")).to_be_visible()
    other_page.goto(path)
    expect(other_page.get_by_text("This invitation was declined.")).to_be_visible()


def test_the_invite_sign_in_prefills_the_email_and_accepts_at_once(
    page: Page, other_page: Page, mail_dir
):
    member = unique_email("prefilled")
    register(other_page, member)
    confirm_email(other_page, mail_dir, member)  # an account of their own (SPEC §4 case 2)
    create_organization(other_page, "Own Co")  # their last workspace: not where they land
    sign_out(other_page)

    register(page, unique_email("prefill-owner"))
    create_organization(page, "Welcome Co")
    open_members(page)
    invite(page, member, "Viewer")
    path = invite_path(mail_dir, member)

    other_page.goto(path)
    other_page.get_by_role("button", name="Sign in", exact=True).click()
    expect(other_page).to_have_url(re.compile(r"/login\?next="), timeout=20_000)
    wait_for_hydration(other_page)
    expect(other_page.get_by_label("Email")).to_have_value(member)
    other_page.get_by_label("Password").fill(PASSWORD)  # the email is already there
    other_page.get_by_role("button", name="Sign in", exact=True).click()
    # no Accept click: joined and in the organization
    expect(other_page.get_by_role("heading", name="Welcome Co")).to_be_visible(timeout=20_000)
    expect(other_page.locator("#role-badge")).to_have_text("Viewer")
    other_page.goto(path)
    expect(other_page.get_by_text("This invitation has already been used.")).to_be_visible(
        timeout=20_000
    )
    # and it is the workspace the next sign-in opens, first in the switcher
    other_page.goto("/organization")
    sign_in_again(other_page, member)
    expect(other_page.get_by_role("heading", name="Welcome Co")).to_be_visible(timeout=20_000)
    assert switcher_order(other_page)[:2] == ["Personal Workspace", "Welcome Co"]


def test_the_email_in_the_sign_in_link_is_only_a_prefill_of_a_valid_address(page: Page):
    page.goto("/login?email=Someone%40Example.com")
    wait_for_hydration(page)
    expect(page.get_by_label("Email")).to_have_value("someone@example.com")
    page.goto("/login?email=not-an-email")
    wait_for_hydration(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("")
