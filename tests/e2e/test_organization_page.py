"""Business details, settings, switching and deleting, as an owner does them in the browser."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import create_organization, register, unique_email


def test_business_details_country_search_and_refused_website(page: Page):
    register(page, unique_email("biz"))
    create_organization(page, "Acme Trading")

    page.get_by_role("button", name="Edit business details").click()
    page.get_by_label("City").fill("London")
    page.get_by_label("Country").fill("King")
    page.get_by_role("option", name="🇬🇧 United Kingdom").click()
    expect(page.locator("#country-selected")).to_have_text("🇬🇧 United Kingdom")
    page.get_by_label("Website").fill("ftp://acme.example")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#website-error")).to_contain_text("http:// or https://")

    page.reload()  # nothing was saved
    expect(page.get_by_text("London")).to_have_count(0)

    page.get_by_role("button", name="Edit business details").click()
    page.get_by_label("City").fill("London")
    page.get_by_label("Country").fill("King")
    page.get_by_role("option", name="🇬🇧 United Kingdom").click()
    page.get_by_label("Website").fill("https://acme.example")
    page.get_by_label("VAT Number").fill("GB980780684")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Business details saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("London")).to_be_visible()
    expect(page.get_by_text("🇬🇧 United Kingdom")).to_be_visible()


def test_delete_needs_the_exact_name(page: Page):
    register(page, unique_email("del"))
    create_organization(page, "Doomed Org")
    page.get_by_role("button", name="Delete Organization").click()
    confirm = page.get_by_label("Organization name")
    delete = page.get_by_role("button", name="Delete Permanently")
    confirm.fill("doomed org")
    expect(delete).to_be_disabled()
    confirm.fill("Doomed Org")
    expect(delete).to_be_enabled()
    delete.click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible()
    page.get_by_role("button", name="Profile menu").click()
    expect(page.get_by_role("menuitem", name="Doomed Org")).to_have_count(0)


def test_switch_organization_from_the_profile_menu(page: Page):
    register(page, unique_email("switch"))
    create_organization(page, "First Org")
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="New Organization").click()
    create_organization(page, "Second Org")

    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="First Org").click()
    expect(page.get_by_role("heading", name="First Org")).to_be_visible()
    page.reload()  # remembered on the server-side session
    expect(page.get_by_role("heading", name="First Org")).to_be_visible()

    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Personal Workspace").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible()


def test_settings_and_rename_are_saved_and_audited(page: Page):
    register(page, unique_email("settings"))
    create_organization(page, "Old Name")
    page.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_label("Organization Name").fill("New Name")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="New Name")).to_be_visible()

    page.get_by_label("Default attribution window (hours)").fill("24")
    page.get_by_role("button", name="Save Settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    page.get_by_role("link", name="Audit Log").click()
    expect(page).to_have_url(re.compile(r"/organization/audit"))
    expect(page.get_by_text("renamed from Old Name to New Name")).to_be_visible()
    expect(page.get_by_text("default_attribution_window=24")).to_be_visible()
