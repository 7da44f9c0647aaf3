"""Each ticket has its own page (/tickets/TKT-001): opened from a row of the list, replied
to, closed and reopened there, kept live; "Back to tickets" returns to the same filtered
list. Agents, Admins and the Owner open tickets in the app for a customer."""

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    open_support,
    register,
    unique_email,
)
from tests.e2e.test_support_desk import authorize, intake_url, post_ticket


def test_a_ticket_has_its_own_page_and_back_keeps_the_filters(page: Page):
    register(page, unique_email("pages"))
    create_organization(page, "Pages Co")
    open_support(page)
    authorize(page, "example.com")
    url = intake_url(page)
    for subject in ("Printer on fire", "Lost password"):
        assert post_ticket(url, subject).status_code == 201

    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_label("Ticket TKT-001").click()  # anywhere on its row
    expect(page).to_have_url(re.compile(r"/tickets/TKT-001$"))
    expect(page.locator("#ticket-number")).to_have_text("TKT-001")
    expect(page.get_by_role("heading", name="Printer on fire")).to_be_visible()
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("Help!")

    page.get_by_label("Reply", exact=True).fill("We are on our way.")
    page.get_by_role("button", name="Send Reply").click()
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("We are on our way.")
    expect(page.get_by_label("Reply", exact=True)).to_have_value("")

    page.get_by_role("button", name="Close Ticket").click()
    expect(page.locator("#ticket-closed-notice")).to_contain_text("This ticket is closed.")
    expect(page.locator("#ticket-status")).to_contain_text("Closed")
    expect(page.get_by_role("button", name="Close Ticket")).to_have_count(0)
    page.reload()  # the page stands on its own
    expect(page.get_by_role("button", name="Reopen Ticket")).to_be_visible(timeout=20_000)

    page.get_by_role("link", name="Back to tickets").click()
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect(page.get_by_label("Ticket TKT-002")).to_be_visible()
    expect(page.get_by_label("Ticket TKT-001")).to_have_count(0)  # open ones only

    page.get_by_label("Status").select_option("Closed")
    expect(page).to_have_url(re.compile(r"/tickets\?status=closed$"))
    expect(page.get_by_label("Ticket TKT-002")).to_have_count(0)
    link = page.get_by_role("link", name="Open TKT-001")
    link.focus()  # a real link: the keyboard opens it too
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets/TKT-001$"))
    page.get_by_role("button", name="Reopen Ticket").click()
    expect(page.locator("#ticket-status")).to_contain_text("Open")
    expect(page.locator("#ticket-closed-notice")).to_have_count(0)

    page.get_by_role("link", name="Back to tickets").click()
    expect(page).to_have_url(re.compile(r"/tickets\?status=closed$"))
    expect(page.get_by_label("Status")).to_have_value("Closed")
    expect(page.get_by_text("No tickets match these filters.")).to_be_visible()
    page.go_back()  # the browser's Back returns to the ticket
    expect(page.locator("#ticket-number")).to_have_text("TKT-001")

    page.goto("/tickets/TKT-404")
    expect(page.get_by_text("Ticket not found.")).to_be_visible(timeout=20_000)


def test_an_agent_opens_a_ticket_in_the_app_and_pages_stay_live(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    register(page, unique_email("desk-owner"))
    create_organization(page, "In-App Co")
    open_support(page)
    authorize(page, "example.com")
    assert post_ticket(intake_url(page), "From the website").status_code == 201
    agent_email = unique_email("desk-agent")
    open_members(page)
    invite(page, agent_email, "Agent")

    agent = browser.new_context(base_url=base_url).new_page()
    join_as_new_user(agent, mail_dir, agent_email, "Andy")
    agent.goto("/tickets")
    agent.get_by_role("button", name="New ticket").click()
    form = agent.get_by_label("New ticket")
    form.get_by_label("Customer name").fill("Carl Customer")
    form.get_by_label("Customer email").fill("carl@example")
    form.get_by_label("Subject").fill("Called about an invoice")
    form.get_by_role("button", name="Create Ticket").click()
    expect(agent.locator("#email-error")).to_be_visible()
    expect(agent.locator("#message-error")).to_have_text("Message is required.")

    page.goto("/tickets/TKT-001")  # meanwhile the Owner has the first ticket open
    expect(page.locator("#ticket-number")).to_have_text("TKT-001", timeout=20_000)

    form.get_by_label("Customer email").fill("carl@example.com")
    form.get_by_label("Message").fill("He cannot find the March invoice.")
    form.get_by_label("Department (optional)").select_option("No department")
    form.get_by_role("button", name="Create Ticket").click()
    expect(agent).to_have_url(re.compile(r"/tickets/TKT-002$"), timeout=20_000)
    expect(agent.locator("#ticket-number")).to_have_text("TKT-002")
    expect(agent.get_by_label("Ticket TKT-002")).to_contain_text("Carl Customer")
    expect(agent.get_by_label("Ticket TKT-002")).to_contain_text("He cannot find the March")

    agent.goto("/tickets/TKT-001")  # the Agent replies; the Owner's open page shows it live
    agent.get_by_label("Reply", exact=True).fill("Looking into it.")
    agent.get_by_role("button", name="Send Reply").click()
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("Looking into it.", timeout=5_000)
    agent.get_by_role("button", name="Close Ticket").click()
    expect(page.locator("#ticket-closed-notice")).to_be_visible(timeout=5_000)

    page.get_by_role("link", name="Back to tickets").click()
    expect(page.get_by_label("Ticket TKT-002")).to_contain_text("Called about an invoice")
    expect(page.locator("#ticket-total")).to_have_text("1 ticket")
    agent.context.close()
