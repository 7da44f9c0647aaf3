"""Knowing where you are: the top bar marks the current page, switching organization keeps
the kind of page, and an unknown address shows a page with a way home."""

import os

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    create_organization,
    open_members,
    register,
    unique_email,
    wait_for_hydration,
)


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def switch_to(page: Page, workspace: str) -> None:
    """Switch, and wait until the page shows the new workspace (the switch fills this page
    in place, or changes page client-side: no page load)."""
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name=workspace).click()
    expect(page.get_by_role("button", name="Profile menu")).to_contain_text(
        workspace, timeout=20_000
    )


def test_the_top_bar_marks_the_current_page(page: Page):
    register(page, unique_email("nav"))
    create_organization(page, "Marked Org")
    nav = main_nav(page)
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "desktop-overview.png"))
    expect(nav.get_by_role("link", name="Organization")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Links")).not_to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name="Links").click()
    expect(page.get_by_role("heading", name="Links", exact=True)).to_be_visible(timeout=20_000)
    expect(nav.get_by_role("link", name="Links")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Organization")).to_have_attribute("aria-current", "false")
    # a sub-page belongs to its section
    page.goto("/organization/members")
    expect(page.get_by_role("heading", name="Members", exact=True).first).to_be_visible(
        timeout=20_000
    )
    expect(nav.get_by_role("link", name="Organization")).to_have_attribute("aria-current", "page")


def test_switching_organization_keeps_the_kind_of_page(page: Page):
    register(page, unique_email("wayfinding"))
    create_organization(page, "Way One")
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Create Organization").click()
    # the create form has its own page and switches nothing until the organization exists
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/organization/new")
    page.goto("/links")
    expect(page.get_by_text("Workspace: Way One")).to_be_visible(timeout=20_000)
    page.goto("/organization/new")
    wait_for_hydration(page)
    create_organization(page, "Way Two")
    assert page.url.rstrip("/").endswith("/organization")

    # /links stays /links
    page.goto("/links")
    expect(page.get_by_text("Workspace: Way Two")).to_be_visible(timeout=20_000)
    switch_to(page, "Way One")
    expect(page.get_by_text("Workspace: Way One")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/links")
    # ... for the Personal Workspace too
    switch_to(page, "Personal Workspace")
    expect(page.get_by_text("Workspace: Personal Workspace")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/links")

    # an organization sub-page stays that sub-page
    switch_to(page, "Way Two")
    # the switch fills this page anew: let it finish before going elsewhere
    expect(page.get_by_text("Workspace: Way Two")).to_be_visible(timeout=20_000)
    page.goto("/organization")
    open_members(page)
    switch_to(page, "Way One")
    expect(page.get_by_role("navigation", name="Organization")).to_contain_text("Way One")
    expect(page.get_by_role("heading", name="Members", exact=True).first).to_be_visible()
    assert page.url.rstrip("/").endswith("/organization/members")

    # the Personal Workspace has no sub-pages: to /organization (its overview)
    switch_to(page, "Personal Workspace")
    expect(page.get_by_role("heading", name="Personal Workspace")).to_be_visible(timeout=20_000)
    assert page.url.rstrip("/").endswith("/organization")


def test_an_unknown_address_shows_the_not_found_page(page: Page, base_url: str):
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("link", name="orgportal")).to_be_visible()
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)

    response = httpx.get(f"{base_url}/no/such/page")
    assert response.status_code == 404
