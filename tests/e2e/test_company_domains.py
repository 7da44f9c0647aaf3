"""Company domains and join by domain as people use them (SPEC §16): an Owner on the
Unlimited plan adds the company's domain, creates the TXT record (the test writes it to the
local DNS server the app asks), verifies it and turns joining on; someone at that domain
registers in another browser, confirms the address, is offered "Join <Org>" and joins — or,
with approval on, asks, and the Owner approves on the Members page."""

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dns_server import LocalDns
from tests.e2e.helpers import (
    confirm_email,
    create_organization,
    open_billing,
    open_members,
    open_settings,
    register,
    unique_email,
    wait_for_hydration,
    wait_for_toasts_to_close,
)
from tests.e2e.test_accessibility import assert_accessible


@pytest.fixture
def other_page(browser: Browser, base_url):
    """A second person in their own browser context."""
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def subscribe_unlimited(page: Page) -> None:
    open_billing(page)
    page.get_by_label("Plan", exact=True).select_option("Unlimited")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#plan-name")).to_have_text("Unlimited", timeout=20_000)


def verified_company_domain(page: Page, local_dns: LocalDns, org: str, domain: str, policy: str):
    """A new Owner of `org` on Unlimited, with `domain` verified and the join `policy` saved."""
    register(page, unique_email("cd-owner"))
    create_organization(page, org)
    open_settings(page)
    # below Unlimited the card is locked and says which plan has it
    expect(page.locator("#company-domains-locked")).to_have_text(
        "Company domains and join by domain are available on the Unlimited plan."
    )
    subscribe_unlimited(page)
    open_settings(page)
    wait_for_hydration(page)

    # a free-mail domain is refused with a message
    page.get_by_label("Company domain", exact=True).fill("gmail.com")
    page.get_by_role("button", name="Add company domain").click()
    expect(page.locator("#company_domain-error")).to_contain_text("free email provider")

    page.get_by_label("Company domain", exact=True).fill(domain.upper())
    page.get_by_role("button", name="Add company domain").click()
    row = page.get_by_role("group", name=f"Company domain {domain}")
    expect(row).to_be_visible(timeout=20_000)
    expect(row.get_by_text("Pending", exact=True)).to_be_visible()
    name, value = row.locator("code").all_inner_texts()
    assert name == f"_orgportal.{domain}" and value.startswith("orgportal-verify=")

    row.get_by_role("button", name=f"Verify {domain} now").click()
    expect(row.get_by_text("TXT record not found yet")).to_be_visible(timeout=20_000)
    assert_accessible(page, "settings with a pending company domain")

    local_dns.set_txt(name, value)
    row.get_by_role("button", name=f"Verify {domain} now").click()
    expect(row.get_by_text("Verified", exact=True)).to_be_visible(timeout=20_000)

    form = page.get_by_role("form", name="Join by company domain")
    form.get_by_label("Join policy").select_option(policy)
    form.get_by_label("Role for people who join").select_option("Agent")
    # the three toasts of adding and verifying may cover the button (and stay while hovered:
    # CI once lost this click to them, the toasts still open 20 s later)
    wait_for_toasts_to_close(page)
    form.get_by_role("button", name="Save join policy").click()
    expect(page.get_by_text("Join by company domain saved.")).to_be_visible(timeout=20_000)
    wait_for_toasts_to_close(page)
    assert_accessible(page, "settings with a verified company domain")


def test_someone_at_a_verified_domain_joins_automatically(
    page: Page, other_page: Page, local_dns: LocalDns, mail_dir
):
    domain = f"acme-{uuid.uuid4().hex[:8]}.com"
    org = f"Acme {domain[5:13]}"
    verified_company_domain(page, local_dns, org, domain, "Join automatically")

    address = f"ada@{domain}"
    register(other_page, address)
    # not offered before the address is confirmed
    expect(other_page.get_by_role("button", name=f"Join {org}")).to_have_count(0)
    confirm_email(other_page, mail_dir, address)
    offer = other_page.get_by_role("region", name=f"Join {org}")
    expect(offer).to_be_visible(timeout=20_000)
    expect(offer).to_contain_text("lets you join as Agent")
    assert_accessible(other_page, "the overview offering to join")
    offer.get_by_role("button", name=f"Join {org}").click()
    expect(other_page.get_by_text(f"Welcome to {org}.")).to_be_visible(timeout=20_000)
    expect(other_page.get_by_role("heading", name=org)).to_be_visible()
    expect(other_page.locator("#role-badge")).to_have_text("Agent")

    # the Owner sees the new member
    open_members(page)
    expect(page.get_by_text(address)).to_be_visible(timeout=20_000)


def test_someone_asks_to_join_and_the_owner_approves(
    page: Page, other_page: Page, local_dns: LocalDns, mail_dir
):
    domain = f"bolt-{uuid.uuid4().hex[:8]}.com"
    org = f"Bolt {domain[5:13]}"
    verified_company_domain(page, local_dns, org, domain, "Ask to join (an Admin approves)")

    address = f"bo@{domain}"
    register(other_page, address)
    confirm_email(other_page, mail_dir, address)
    offer = other_page.get_by_role("region", name=f"Join {org}")
    offer.get_by_role("button", name=f"Ask to join {org}").click()
    expect(other_page.locator("#join-request-waiting")).to_be_visible(timeout=20_000)

    open_members(page)
    requests = page.get_by_role("table", name="Join requests")
    expect(requests.get_by_role("row", name=f"Join request {address}")).to_be_visible(
        timeout=20_000
    )
    assert_accessible(page, "members with a join request")
    requests.get_by_role("button", name=f"Approve {address}").click()
    expect(page.get_by_text("Request approved.")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("table", name="Join requests")).to_have_count(0)

    # the person is a member: the organization is in their switcher after a reload
    other_page.reload()
    expect(other_page.locator("#join-request-waiting")).to_have_count(0, timeout=20_000)
