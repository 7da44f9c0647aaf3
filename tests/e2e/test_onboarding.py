"""A new user's first minutes: sign up, confirm, create an organization, become its Owner,
and find the organization's sub-pages in its sidebar."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    create_organization,
    link_in,
    open_settings,
    register,
    unique_email,
    wait_for_mail,
)


def test_register_create_organization_shows_owner_badge(page: Page, mail_dir):
    address = unique_email("owner")
    register(page, address)
    expect(page.get_by_text("Please confirm your email address")).to_be_visible()

    create_organization(page, "Acme Marketing Team")
    expect(page.get_by_text("Created Acme Marketing Team. You are its Owner.")).to_be_visible()
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.locator("#org-slug")).to_have_text(re.compile(r"^acme-marketing-team-[a-z0-9]{6}$"))
    sidebar = page.get_by_role("navigation", name="Organization")
    for section in ("Overview", "Members", "Billing", "Support", "Settings", "Audit Log"):
        expect(sidebar.get_by_role("link", name=section)).to_be_visible()
    expect(sidebar.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")

    confirmation = wait_for_mail(mail_dir, address, "Confirm your")
    page.goto(urlsplit(link_in(confirmation)).path)
    expect(page.get_by_text(f"{address} is confirmed")).to_be_visible(timeout=20_000)
    page.goto("/organization")
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.get_by_text("Please confirm your email address")).to_have_count(0)


def test_the_new_organization_is_edited_under_settings(page: Page):
    register(page, unique_email("first-edit"))
    create_organization(page, "Fresh Start")
    open_settings(page)
    details = page.get_by_role("form", name="Organization details")
    expect(details.get_by_label("Organization Name")).to_have_value("Fresh Start")
    details.get_by_label("Description").fill("Our first organization")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Organization updated.")).to_be_visible()

    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(page.get_by_text("Our first organization")).to_be_visible(timeout=20_000)
