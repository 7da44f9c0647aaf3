"""Branded short-link domains as an Owner uses them (SPEC §15): subscribe to a plan that
allows one, add go.acme.com, read the DNS record to create, create it (the test writes it to
the local DNS server the app asks), verify, make a link on the domain, see its short URL."""

import re

from playwright.sync_api import Page, expect

from tests.dns_server import LocalDns
from tests.e2e.helpers import create_organization, register, unique_email, wait_for_hydration
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_two_factor import subscribe_professional


def open_domains(page: Page) -> None:
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Domains").click()
    expect(page.get_by_role("heading", name="Domains", exact=True)).to_be_visible(timeout=20_000)


def test_add_verify_and_use_a_custom_domain(page: Page, local_dns: LocalDns):
    register(page, unique_email("domains"))
    create_organization(page, "Acme Domains")
    open_domains(page)
    expect(page.locator("#domain-limit")).to_have_text("0 of 0 custom domains used")
    wait_for_hydration(page)
    page.get_by_label("Domain", exact=True).fill("go.acme.com")
    page.get_by_role("button", name="Add Domain").click()
    expect(page.locator("#domain-error")).to_contain_text("the Free plan allows no custom domains")

    subscribe_professional(page)
    open_domains(page)
    expect(page.locator("#domain-limit")).to_have_text("0 of 5 custom domains used")
    wait_for_hydration(page)
    page.get_by_label("Domain", exact=True).fill("Go.Acme.com")
    page.get_by_role("button", name="Add Domain").click()
    row = page.get_by_role("group", name="Domain go.acme.com")
    expect(row).to_be_visible(timeout=20_000)
    expect(row.get_by_text("Pending", exact=True)).to_be_visible()
    expect(page.locator("#domain-limit")).to_have_text("1 of 5 custom domains used")

    # The page lists the records to create: the TXT record's name and value apart.
    txt = row.get_by_role("row", name="TXT record for go.acme.com")
    name, value = txt.locator("code").all_inner_texts()
    assert name == "_orgportal.go.acme.com"
    assert re.fullmatch(r"orgportal-verify=\w+", value)

    # Verify before the record exists: still pending (DNS takes time), not failed.
    row.get_by_role("button", name="Verify go.acme.com").click()
    expect(row.get_by_text("TXT record not found yet")).to_be_visible(timeout=20_000)
    expect(row.get_by_text("Pending", exact=True)).to_be_visible()
    assert_accessible(page, "the Domains page with a pending domain")

    local_dns.set_txt(name, value)
    row.get_by_role("button", name="Verify go.acme.com").click()
    expect(row.get_by_text("Verified")).to_be_visible(timeout=20_000)
    expect(row.get_by_text("Verification failed")).to_have_count(0)

    # A link on the domain: the list shows its full short URL there.
    page.goto("/links")
    wait_for_hydration(page)
    page.get_by_label("Target URL").fill("https://example.com/spring-sale")
    page.get_by_label("Custom slug (optional)").fill("spring")
    page.get_by_label("Domain", exact=True).select_option(label="go.acme.com")
    page.get_by_role("button", name="Create Link").click()
    link_row = page.get_by_label("Link spring", exact=True)
    expect(link_row).to_be_visible(timeout=20_000)
    expect(link_row.get_by_role("link", name="https://go.acme.com/spring")).to_be_visible()
