"""A new user's first minutes: sign up, confirm, create an organization, become its Owner."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.helpers import create_organization, link_in, register, unique_email, wait_for_mail


def test_register_create_organization_shows_owner_badge(page: Page, mail_dir):
    address = unique_email("owner")
    register(page, address)
    expect(page.get_by_text("Please confirm your email address")).to_be_visible()

    create_organization(page, "Acme Marketing Team")
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.locator("#org-slug")).to_have_text(re.compile(r"^acme-marketing-team-[a-z0-9]{6}$"))

    confirmation = wait_for_mail(mail_dir, address, "Confirm your")
    page.goto(urlsplit(link_in(confirmation)).path)
    expect(page.get_by_text(f"{address} is confirmed")).to_be_visible(timeout=20_000)
    page.goto("/organization")
    expect(page.locator("#role-badge")).to_have_text("Owner")
    expect(page.get_by_text("Please confirm your email address")).to_have_count(0)
