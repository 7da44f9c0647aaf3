"""Actions that lead to another page change it client-side, without loading a page (issue
24): signing in, switching workspace, creating a ticket, accepting an invitation. A marker set
on `window` before the action survives it (a page load would start a new window), and the
page then shows the right content and keeps working. benchmarks/navigation.py times them."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
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


def mark_window(page: Page) -> None:
    page.evaluate("() => { window.__samePage = true; }")


def no_page_load_since_marked(page: Page) -> bool:
    return page.evaluate("() => window.__samePage === true")


def switch_to(page: Page, workspace: str) -> None:
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name=workspace).click()
    expect(page.get_by_role("button", name="Profile menu")).to_contain_text(
        workspace, timeout=20_000
    )


def test_signing_in_changes_page_without_a_page_load(page: Page):
    address = unique_email("swift")
    register(page, address)
    create_organization(page, "Swift Co")
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)

    wait_for_hydration(page)
    mark_window(page)
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Swift Co")).to_be_visible(timeout=20_000)
    expect(page.locator("#role-badge")).to_have_text("Owner")
    assert no_page_load_since_marked(page)
    assert page.url.rstrip("/").endswith("/organization")
    # the session is still an HttpOnly cookie, which the page's scripts cannot read …
    assert "orgportal_session" not in page.evaluate("document.cookie")
    cookie = next(c for c in page.context.cookies() if c["name"] == "orgportal_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # … and the page's connection carries it: the next page loads signed in, so does a reload
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Links").click()
    expect(page.get_by_text("Workspace: Swift Co")).to_be_visible(timeout=20_000)
    assert no_page_load_since_marked(page)
    page.reload()
    expect(page.get_by_text("Workspace: Swift Co")).to_be_visible(timeout=20_000)


def test_switching_workspace_and_creating_a_ticket_change_no_page(page: Page):
    register(page, unique_email("hopper"))
    create_organization(page, "Hop One")
    page.goto("/organization/new")
    wait_for_hydration(page)
    create_organization(page, "Hop Two")

    # the same page in the other workspace: filled where it stands
    mark_window(page)
    switch_to(page, "Hop One")
    expect(page.get_by_role("heading", name="Hop One")).to_be_visible(timeout=20_000)
    expect(page.locator("#role-badge")).to_have_text("Owner")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Links").click()
    expect(page.get_by_text("Workspace: Hop One")).to_be_visible(timeout=20_000)
    switch_to(page, "Hop Two")
    expect(page.get_by_text("Workspace: Hop Two")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/links")
    open_members_from_overview(page)
    switch_to(page, "Hop One")  # a sub-page stays that sub-page
    expect(page.get_by_role("navigation", name="Organization")).to_contain_text("Hop One")
    assert page.url.rstrip("/").endswith("/organization/members")
    # a form shows the new workspace's values, not the last one's
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Organization Name")).to_have_value("Hop One", timeout=20_000)
    switch_to(page, "Hop Two")
    expect(page.get_by_label("Organization Name")).to_have_value("Hop Two", timeout=20_000)
    switch_to(page, "Hop One")
    expect(page.get_by_label("Organization Name")).to_have_value("Hop One", timeout=20_000)
    assert no_page_load_since_marked(page)

    # New ticket → Create Ticket → the ticket's page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    page.get_by_role("button", name="New ticket").click()
    form = page.get_by_label("New ticket")
    form.get_by_label("Customer name").fill("Carla Caller")
    form.get_by_label("Customer email").fill("carla@example.com")
    form.get_by_label("Subject").fill("Invoice missing")
    form.get_by_label("Message").fill("She cannot find the May invoice.")
    form.get_by_role("button", name="Create Ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/TKT-001$"), timeout=20_000)
    expect(page.get_by_role("heading", name="Invoice missing")).to_be_visible()
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("She cannot find the May")
    assert no_page_load_since_marked(page)

    # from one organization's ticket to the other organization's list (a route change)
    switch_to(page, "Hop Two")
    expect(page).to_have_url(re.compile(r"/tickets$"), timeout=20_000)
    expect(page.get_by_text("No tickets match these filters.")).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Ticket TKT-001")).to_have_count(0)
    assert no_page_load_since_marked(page)


def open_members_from_overview(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organization").click()
    open_members(page)


def test_accepting_an_invitation_changes_page_without_a_page_load(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    member_email = unique_email("joiner")
    member = browser.new_context(base_url=base_url).new_page()
    register(member, member_email)

    register(page, unique_email("inviter"))
    create_organization(page, "Welcome Co")
    open_members(page)
    invite(page, member_email, "Agent")

    link = link_in(wait_for_mail(mail_dir, member_email, "invited you to join"))
    member.goto(urlsplit(link).path)
    accept = member.get_by_role("button", name="Accept")
    expect(accept).to_be_visible(timeout=20_000)
    mark_window(member)
    accept.click()
    expect(member.get_by_role("heading", name="Welcome Co")).to_be_visible(timeout=20_000)
    expect(member.locator("#role-badge")).to_have_text("Agent")
    expect(member.get_by_role("button", name="Profile menu")).to_contain_text("Welcome Co")
    assert member.url.rstrip("/").endswith("/organization")
    assert no_page_load_since_marked(member)
    member.context.close()
