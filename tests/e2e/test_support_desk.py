"""The support desk in the browser: prefix, departments, authorized domains, tickets, agents,
and the public intake endpoint called like a website plugin would (real HTTP, real app)."""

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_in_dialog,
    create_organization,
    invite,
    link_in,
    open_members,
    open_support,
    register,
    unique_email,
    wait_for_mail,
)
from tests.e2e.test_billing import pay_test_checkout

SHOP = "https://shop.example.com"


def post_ticket(intake_url: str, subject: str, origin: str | None = SHOP) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    body = {"name": "Rita", "email": "rita@example.com", "subject": subject, "message": "Help!"}
    return httpx.post(intake_url, json=body, headers=headers, timeout=20)


def authorize(page: Page, domain: str) -> None:
    page.get_by_label("Domain", exact=True).fill(domain)
    page.get_by_role("button", name="Add Domain").click()


def intake_url(page: Page) -> str:
    expect(page.locator("#intake-url")).to_contain_text("/api/public/organizations/")
    return page.locator("#intake-url").inner_text()


def subscribe_to_support(page: Page) -> None:
    """From the Support page's locked Ticket Prefix card, through the test-mode checkout,
    back to the Support page (now unlocked)."""
    page.get_by_label("Ticket Prefix is locked").get_by_role(
        "button", name="Subscribe to unlock"
    ).click()
    expect(page.locator("#checkout-description")).to_have_text(
        re.compile(r"^Support Subscription: 1 seats?$")
    )
    pay_test_checkout(page)
    open_support(page)
    expect(page.get_by_role("button", name="Save Prefix")).to_be_visible()


def test_prefix_domains_and_public_intake(page: Page):
    register(page, unique_email("desk"))
    create_organization(page, "Desk Co")
    open_support(page)

    # Without a support subscription: prefix and departments locked, domains available.
    expect(page.get_by_label("Ticket Prefix is locked")).to_be_visible()
    expect(page.get_by_label("Departments is locked")).to_be_visible()
    expect(page.get_by_role("button", name="Save Prefix")).to_have_count(0)

    authorize(page, "localhost")  # refused, saying what to enter (a pasted URL is cleaned:
    # tests/e2e/test_content_polish.py)
    expect(page.locator("#domain-error")).to_have_text(
        "Enter a full domain name, like shop.example.com."
    )
    authorize(page, "Example.COM")
    expect(page.get_by_label("Domain example.com", exact=True)).to_be_visible()
    expect(page.locator("#domain-error")).to_have_count(0)
    authorize(page, "Bücher.example")
    expect(page.get_by_label("Domain xn--bcher-kva.example", exact=True)).to_contain_text(
        "bücher.example"
    )

    url = intake_url(page)
    first = post_ticket(url, "Before the new prefix")
    assert first.status_code == 201 and first.json() == {"number": "TKT-001"}
    assert first.headers["access-control-allow-origin"] == SHOP
    # The real app (Reflex's CORS layer included) answers other origins without CORS.
    for origin in ("https://evilexample.com", None):
        refused = post_ticket(url, "Spam", origin)
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    evil = httpx.options(url, headers={"Origin": "https://evilexample.com", **preflight})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    ok = httpx.options(url, headers={"Origin": SHOP, **preflight})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == SHOP

    subscribe_to_support(page)
    page.get_by_label("Ticket Prefix", exact=True).fill("AC-ME")
    page.get_by_role("button", name="Save Prefix").click()
    expect(page.locator("#prefix-error")).to_have_text("Use 1–10 letters or digits, like ACME.")
    page.get_by_label("Ticket Prefix", exact=True).fill("acme")
    page.get_by_role("button", name="Save Prefix").click()
    expect(page.locator("#prefix-example")).to_have_text("ACME-001")
    page.reload()
    expect(page.get_by_label("Ticket Prefix", exact=True)).to_have_value("ACME")

    second = post_ticket(intake_url(page), "After the new prefix", "http://help.shop.example.com")
    assert second.status_code == 201 and second.json() == {"number": "ACME-001"}

    page.get_by_role("link", name="Tickets").click()
    expect(page.get_by_label("Ticket ACME-001")).to_contain_text("After the new prefix")
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("Before the new prefix")
    expect(page.locator("#ticket-total")).to_have_text("2 tickets")


def test_departments_assign_members_and_filter_tickets(page: Page):
    register(page, unique_email("dept"), "Dora", "Dept")
    create_organization(page, "Dept Co")
    open_support(page)
    authorize(page, "example.com")
    url = intake_url(page)
    subscribe_to_support(page)

    page.get_by_label("New department").fill("Sales")
    page.get_by_role("button", name="Add Department").click()
    sales = page.get_by_label("Department Sales", exact=True)
    expect(sales).to_be_visible()
    page.get_by_label("New department").fill("sales")  # names are unique, ignoring case
    page.get_by_role("button", name="Add Department").click()
    expect(page.locator("#name-error")).to_contain_text("already a department called Sales")

    picker = sales.get_by_label("Member for Sales")
    picker.press_sequentially("dora", delay=50)  # suggestions come from the server as one types
    suggestion = page.locator("#department-member-matches option")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_have_attribute("value", re.compile(r"^dept-.*@example\.com$"))
    picker.fill(suggestion.get_attribute("value"))  # what choosing the suggestion enters
    sales.get_by_role("button", name="Assign to Sales").click()
    expect(sales.get_by_text("Dora Dept", exact=True)).to_be_visible()
    sales.get_by_label("Name of Sales").fill("Sales EMEA")
    sales.get_by_role("button", name="Rename").click()
    emea = page.get_by_label("Department Sales EMEA", exact=True)
    expect(emea.get_by_text("Dora Dept", exact=True)).to_be_visible()

    for subject in ("Quote please", "Password reset"):
        assert post_ticket(url, subject).status_code == 201
    page.goto("/tickets")
    page.get_by_role("link", name="Open TKT-001").click()
    expect(page.locator("#ticket-number")).to_have_text("TKT-001")
    page.get_by_label("Ticket department").select_option("Sales EMEA")
    expect(page.get_by_text("Assigned to Sales EMEA.")).to_be_visible()
    page.get_by_role("link", name="Back to tickets").click()
    page.get_by_label("Department", exact=True).select_option("Sales EMEA")
    expect(page.locator("#ticket-total")).to_have_text("1 ticket")
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("Sales EMEA")
    page.get_by_label("Department", exact=True).select_option("Unassigned")
    expect(page.get_by_label("Ticket TKT-002")).to_be_visible()
    expect(page.get_by_label("Ticket TKT-001")).to_have_count(0)

    page.goto("/organization/support")  # deleting the department leaves its ticket unassigned
    confirm_in_dialog(
        page, page.get_by_role("button", name="Delete department Sales EMEA"), "Delete department"
    )
    expect(page.get_by_label("Department Sales EMEA", exact=True)).to_have_count(0)
    page.goto("/tickets")
    page.get_by_label("Department", exact=True).select_option("Unassigned")
    expect(page.locator("#ticket-total")).to_have_text("2 tickets")


def test_agent_handles_tickets_sees_new_ones_live_and_no_settings(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    register(page, unique_email("lead"))
    create_organization(page, "Agent Desk Co")
    open_support(page)
    authorize(page, "example.com")
    url = intake_url(page)
    assert post_ticket(url, "Printer on fire").status_code == 201
    agent = unique_email("agent")
    open_members(page)
    invite(page, agent, "Agent")

    context = browser.new_context(base_url=base_url)
    other = context.new_page()
    other.goto(link_in(wait_for_mail(mail_dir, agent, "invited you to join")))
    other.get_by_label("First name").fill("Ann")
    other.get_by_label("Last name").fill("Agent")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Create account and join").click()
    expect(other.locator("#role-badge")).to_have_text("Agent", timeout=20_000)
    open_support(other)  # an Agent sees who manages the desk, and the way to the tickets
    expect(other.get_by_text("The Owner and Admins manage the ticket prefix")).to_be_visible()
    for heading in ("Ticket Prefix", "Departments", "Authorized Domains"):
        expect(other.get_by_role("heading", name=heading, exact=True)).to_have_count(0)

    other.get_by_role("link", name="Open the tickets").click()
    other.get_by_role("link", name="Open TKT-001").click()
    other.get_by_label("Reply", exact=True).fill("We are on our way.")
    other.get_by_role("button", name="Send Reply").click()
    expect(other.get_by_label("Ticket TKT-001")).to_contain_text("We are on our way.")
    other.get_by_role("button", name="Close Ticket").click()
    expect(other.get_by_role("button", name="Reopen Ticket")).to_be_visible()
    other.get_by_role("link", name="Back to tickets").click()
    expect(other.get_by_text("No tickets match these filters.")).to_be_visible()
    expect(other.get_by_label("Ticket TKT-001")).to_have_count(0)  # the list shows open ones
    other.get_by_label("Status").select_option("Closed")
    expect(other.get_by_label("Ticket TKT-001")).to_be_visible()
    wait_for_mail(mail_dir, "rita@example.com", "[TKT-001] Printer on fire")

    other.get_by_label("Status").select_option("Open")
    expect(other.get_by_text("No tickets match these filters.")).to_be_visible()
    assert post_ticket(url, "Arrives while the page is open").status_code == 201
    expect(other.get_by_label("Ticket TKT-002")).to_be_visible(timeout=5_000)  # no reload
    context.close()
