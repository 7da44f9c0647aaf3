"""A ticket's requester replies through the link in the staff reply's mail (SPEC §7, §17):
signed out, in a browser of their own; the agent's open ticket page shows the reply at once,
the closed ticket opens again, and the agent gets the "customer reply" notification. The
requester's open page shows the agent's next answer, and the ticket closing, as they happen."""

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import create_organization, link_in, register, unique_email, wait_for_mail


def answered_ticket(page: Page, mail_dir: Path, organization: str, owner: str) -> tuple[str, str]:
    """`owner` registers, creates `organization`, opens TKT-001 for a customer and answers
    it on the ticket's page. Returns the customer's address and the reply link mailed to it."""
    customer = unique_email("carl")
    register(page, owner)
    create_organization(page, organization)
    page.goto("/tickets")
    page.get_by_role("button", name="New ticket").click()
    form = page.get_by_label("New ticket")
    form.get_by_label("Customer name").fill("Carl Customer")
    form.get_by_label("Customer email").fill(customer)
    form.get_by_label("Subject").fill("Invoice missing")
    form.get_by_label("Message").fill("I cannot find the March invoice.")
    form.get_by_role("button", name="Create Ticket").click()
    expect(page.locator("#ticket-number")).to_have_text("TKT-001", timeout=20_000)
    page.get_by_label("Reply", exact=True).fill("We have sent it again.")
    page.get_by_role("button", name="Send Reply").click()
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text("We have sent it again.")
    mail = wait_for_mail(mail_dir, customer, "[TKT-001] Invoice missing")
    body = mail.get_payload(decode=True).decode()
    assert "We have sent it again." in body and "Reply to this message: http" in body
    return customer, link_in(mail)


def test_the_requester_replies_through_the_mailed_link(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    owner = unique_email("reply-owner")
    _, link = answered_ticket(page, mail_dir, "Reply Co", owner)
    assert "/support/ticket/" in link
    page.get_by_role("button", name="Close Ticket").click()
    expect(page.locator("#ticket-status")).to_contain_text("Closed")

    customer = browser.new_context(base_url=base_url).new_page()  # signed out
    customer.goto(link)
    expect(
        customer.get_by_role("heading", name="Reply Co · TKT-001 · Invoice missing")
    ).to_be_visible(timeout=20_000)
    conversation = customer.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("article", name="Your message")).to_contain_text(
        "I cannot find the March invoice."
    )
    expect(conversation.get_by_role("article", name="Message from Ada Lovelace")).to_contain_text(
        "We have sent it again."
    )
    expect(customer.get_by_text("This ticket is closed.")).to_be_visible()

    customer.get_by_label("Your reply").fill("Thanks, it arrived this time.")
    customer.get_by_role("button", name="Send reply").click()
    expect(customer.get_by_text("Your reply was sent.")).to_be_visible()
    expect(conversation.get_by_role("article", name="Your message").last).to_contain_text(
        "Thanks, it arrived this time."
    )
    expect(customer.get_by_label("Your reply")).to_have_value("")
    expect(customer.get_by_text("This ticket is closed.")).to_have_count(0)

    # the agent's open ticket page: the reply, and the ticket open again (live)
    expect(page.get_by_label("Ticket TKT-001")).to_contain_text(
        "Thanks, it arrived this time.", timeout=10_000
    )
    expect(page.locator("#ticket-status")).to_contain_text("Open")
    notice = wait_for_mail(mail_dir, owner, "Carl Customer replied: Invoice missing")
    assert notice["Subject"] == "[TKT-001] Carl Customer replied: Invoice missing"

    # the agent answers and closes it: the requester's open page shows both (live)
    page.get_by_label("Reply", exact=True).fill("Glad to hear it.")
    page.get_by_role("button", name="Send Reply").click()
    expect(
        conversation.get_by_role("article", name="Message from Ada Lovelace").last
    ).to_contain_text("Glad to hear it.", timeout=10_000)
    page.get_by_role("button", name="Close Ticket").click()
    expect(customer.get_by_text("This ticket is closed.")).to_be_visible(timeout=10_000)

    customer.goto("/support/ticket/not-a-real-token")
    expect(customer.get_by_text("This reply link is not valid or has expired.")).to_be_visible(
        timeout=20_000
    )
    expect(customer.get_by_role("button", name="Send reply")).to_have_count(0)
    customer.context.close()
