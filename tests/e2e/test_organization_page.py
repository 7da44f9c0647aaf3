"""The organization's Overview and Settings sub-pages, as an owner uses them in the browser:
the read-only overview, business details, settings, renaming, switching and deleting."""

import base64
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import create_organization, open_settings, register, unique_email

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_the_overview_shows_header_usage_and_plan_but_no_edit_form(page: Page):
    register(page, unique_email("overview"))
    create_organization(page, "Overview Co")
    expect(page).to_have_url(re.compile(r"/organization/?$"))
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")
    expect(page.locator("#usage-members-label")).to_have_text("1 / 3")
    expect(page.locator("#plan-summary-name")).to_have_text("Free")
    # editing lives on the Settings sub-page
    expect(page.get_by_label("Organization Name")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete Organization")).to_have_count(0)

    open_settings(page)
    expect(page).to_have_url(re.compile(r"/organization/settings/?$"))
    expect(page.get_by_label("Organization Name")).to_have_value("Overview Co")
    expect(page.get_by_role("checkbox", name="Allow members to invite")).not_to_be_checked()
    expect(page.get_by_role("button", name="Delete Organization")).to_be_visible()


def test_business_details_country_search_and_refused_website(page: Page):
    register(page, unique_email("biz"))
    create_organization(page, "Acme Trading")
    open_settings(page)
    form = page.get_by_role("form", name="Business details")

    page.get_by_role("button", name="Add business details").click()  # nothing saved yet
    form.get_by_label("City").fill("London")
    form.get_by_label("Country").fill("King")
    page.get_by_role("option", name="United Kingdom").click()
    expect(page.locator("#country-selected")).to_have_text("United Kingdom")
    form.get_by_label("Website").fill("ftp://acme.example")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#website-error")).to_contain_text("http:// or https://")
    expect(form.get_by_label("City")).to_have_value("London")  # what was typed stays

    page.reload()  # nothing was saved
    expect(page.get_by_role("heading", name="Business Details")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("London")).to_have_count(0)

    page.get_by_role("button", name="Add business details").click()  # nothing saved yet
    form.get_by_label("City").fill("London")
    form.get_by_label("Country").fill("King")
    page.get_by_role("option", name="United Kingdom").click()
    form.get_by_label("Website").fill("https://acme.example")
    form.get_by_label("VAT Number").fill("GB980780684")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Business details saved.")).to_be_visible()
    expect(page.get_by_text("London")).to_be_visible()
    page.reload()
    expect(page.get_by_text("London")).to_be_visible(timeout=20_000)
    expect(page.locator("#country-shown")).to_have_text("United Kingdom")  # flag: an SVG


def test_delete_needs_the_exact_name(page: Page):
    register(page, unique_email("del"))
    create_organization(page, "Doomed Org")
    open_settings(page)
    page.get_by_role("button", name="Delete Organization").click()
    confirm = page.get_by_label("Organization name", exact=True)
    delete = page.get_by_role("button", name="Delete Permanently")
    confirm.fill("doomed org")
    expect(delete).to_be_disabled()
    confirm.fill("Doomed Org")
    expect(delete).to_be_enabled()
    delete.click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Profile menu").click()
    expect(page.get_by_role("menuitem", name="Doomed Org")).to_have_count(0)


def test_switch_organization_from_the_profile_menu(page: Page):
    register(page, unique_email("switch"))
    create_organization(page, "First Org")
    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Create Organization").click()
    create_organization(page, "Second Org")

    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="First Org").click()
    expect(page.get_by_role("heading", name="First Org")).to_be_visible(timeout=20_000)
    page.reload()  # remembered on the server-side session
    expect(page.get_by_role("heading", name="First Org")).to_be_visible(timeout=20_000)
    open_settings(page)
    expect(page.get_by_label("Organization Name")).to_have_value("First Org")

    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Personal Workspace").click()
    # with organizations: the Personal Workspace's overview, not the create form
    expect(page.get_by_role("heading", name="Personal Workspace")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Create an organization")).to_have_count(0)


def test_settings_and_rename_are_saved_and_audited(page: Page):
    register(page, unique_email("settings"))
    create_organization(page, "Old Name")
    open_settings(page)
    details = page.get_by_role("form", name="Organization details")
    details.get_by_label("Organization Name").fill("New Name")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Organization updated.")).to_be_visible()
    sidebar = page.get_by_role("navigation", name="Organization")
    expect(sidebar).to_contain_text("New Name")

    page.get_by_label("Default attribution window (hours)").fill("24")
    page.get_by_role("button", name="Save Settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    sidebar.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="New Name")).to_be_visible(timeout=20_000)
    sidebar.get_by_role("link", name="Audit Log").click()
    expect(page).to_have_url(re.compile(r"/organization/audit"))
    expect(page.get_by_text("renamed from Old Name to New Name")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("default_attribution_window=24")).to_be_visible()


def test_a_refused_rename_keeps_what_was_typed(page: Page):
    register(page, unique_email("refused"))
    create_organization(page, "Kept Name")
    open_settings(page)
    details = page.get_by_role("form", name="Organization details")
    details.get_by_label("Description").fill("A description to keep")
    details.get_by_label("Organization Name").fill("X")
    details.get_by_role("button", name="Save").click()
    expect(page.locator("#name-error")).to_contain_text("at least 2 characters")
    expect(details.get_by_label("Organization Name")).to_have_value("X")
    expect(details.get_by_label("Description")).to_have_value("A description to keep")
    page.reload()  # nothing was saved
    expect(page.get_by_label("Organization Name")).to_have_value("Kept Name", timeout=20_000)
    expect(page.get_by_label("Description")).to_have_value("")


def test_an_uploaded_logo_is_saved_and_kept_by_the_next_save(page: Page, tmp_path: Path):
    register(page, unique_email("logo-edit"))
    create_organization(page, "Logo Edit Co")
    open_settings(page)
    details = page.get_by_role("form", name="Organization details")
    image = tmp_path / "mark.png"
    image.write_bytes(PNG_1x1)
    details.get_by_label("Upload logo").set_input_files(str(image))
    expect(details.get_by_text("Uploaded logo will be used")).to_be_visible()
    details.get_by_role("button", name="Save").click()
    # the form says "Uploaded image", never the internal address it is served from
    preview = details.get_by_role("img", name="Uploaded logo")
    expect(preview).to_have_attribute("src", re.compile(r"^/api/logos/.+\.png$"))
    expect(details.get_by_text("Uploaded logo will be used")).to_have_count(0)
    expect(details.get_by_text("Uploaded image")).to_be_visible()
    expect(details.get_by_label("Logo URL")).to_have_count(0)
    saved = preview.get_attribute("src")

    details.get_by_label("Description").fill("Now with a logo")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Organization updated.").first).to_be_visible()
    page.reload()
    expect(preview).to_have_attribute("src", saved, timeout=20_000)
    expect(details.get_by_label("Description")).to_have_value("Now with a logo")
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("img", name="Logo")).to_have_attribute("src", saved)
