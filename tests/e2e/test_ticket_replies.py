"""A ticket's requester replies through the link in the staff reply's mail (SPEC §7, §17):
signed out, in a browser of their own; the agent's open ticket page shows the reply at once,
the closed ticket opens again, and the agent gets the "customer reply" notification. The
requester's open page shows the agent's next answer, and the ticket closing, as they happen."""

import uuid
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine, select

from orgportal.models import Organization, Ticket, TicketMessage
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


def _older_messages(database_url: str, organization: str, count: int) -> None:
    """`count` messages before the first of `organization`'s TKT-001, straight into the
    app's database: a conversation that ran for months, which no test could type."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        org = session.exec(select(Organization).where(Organization.name == organization)).one()
        ticket = session.exec(
            select(Ticket).where(Ticket.organization_id == org.id, Ticket.number == "TKT-001")
        ).one()
        start = ticket.created_at - timedelta(days=90)
        for n in range(1, count + 1):
            at = start + timedelta(hours=n)
            session.add(
                TicketMessage(ticket_id=ticket.id, author_name="Ada Lovelace", body=f"Old #{n}",
                              created_at=at)
            )  # fmt: skip
        session.commit()
    engine.dispose()


def test_a_long_conversation_shows_the_latest_and_the_earlier_on_request(
    page: Page, browser: Browser, base_url: str, mail_dir: Path, app_env: dict[str, str]
):
    """Both ticket pages show the latest 50 messages, say how many came before and show
    them on request (the list is read a page at a time on the server)."""
    from tests.e2e.test_accessibility import assert_accessible  # it imports this module

    organization = f"Long Co {uuid.uuid4().hex[:6]}"
    _, link = answered_ticket(page, mail_dir, organization, unique_email("long-owner"))
    _older_messages(app_env["DATABASE_URL"], organization, 60)  # 62 messages in all

    customer = browser.new_context(base_url=base_url).new_page()  # signed out
    customer.goto(link)
    conversation = customer.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("article")).to_have_count(50, timeout=20_000)
    expect(conversation.get_by_role("article").last).to_contain_text("We have sent it again.")
    expect(customer.get_by_text("12 earlier messages")).to_be_visible()
    expect(customer.get_by_text("Old #1", exact=True)).to_have_count(0)
    customer.get_by_role("button", name="Show earlier messages").click()
    expect(conversation.get_by_role("article")).to_have_count(62)
    expect(conversation.get_by_role("article").first).to_contain_text("Old #1")
    expect(customer.get_by_role("button", name="Show earlier messages")).to_have_count(0)
    assert_accessible(customer, "a long conversation, all shown (reply page)")
    customer.context.close()

    page.reload()  # the agent's page of the same ticket
    detail = page.get_by_label("Ticket TKT-001")
    expect(page.get_by_text("12 earlier messages")).to_be_visible(timeout=20_000)
    expect(detail.get_by_text("Old #12", exact=True)).to_have_count(0)
    expect(detail.get_by_text("Old #13", exact=True)).to_be_visible()
    page.get_by_role("button", name="Show earlier messages").click()
    expect(detail.get_by_text("Old #1", exact=True)).to_be_visible()
    expect(page.get_by_text("12 earlier messages")).to_have_count(0)
    assert_accessible(page, "a long conversation, all shown (ticket page)")
    page.reload()  # opened again in the same tab: the latest messages again
    expect(page.get_by_text("12 earlier messages")).to_be_visible(timeout=20_000)
    expect(detail.get_by_text("Old #1", exact=True)).to_have_count(0)
