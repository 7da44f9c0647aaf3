"""axe-core on every page and state a user reaches: no serious or critical violation.

Signed out (sign in, register, an invitation, a ticket's reply page), a new user (create
form), a Free organization's sub-pages, a subscribed organization's billing page, links,
files, tickets, account and the audit log.
"""

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    SIGNED_IN_PAGES,
    create_organization,
    invite,
    link_in,
    register,
    unique_email,
    wait_for_mail,
)
from tests.e2e.test_ticket_replies import answered_ticket

AXE = Axe()
BLOCKING = ("serious", "critical")
# Every element of a page inside a landmark (axe's "region" rule, "moderate").
ALSO_BLOCKING_RULES = ("region",)


def assert_accessible(page: Page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    # A dialog fades and zooms in: caught mid-way its buttons read as low contrast. Wait
    # until every animation that ends (not a spinner's) has ended; toasts are left out below.
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running'"
        " || a.effect?.getComputedTiming().endTime === Infinity"
        " || a.effect?.target?.closest?.('[data-sonner-toaster]'))",
        timeout=10_000,
    )
    # Toasts fade in and out: caught mid-animation their text reads as low contrast.
    results = AXE.run(page, context={"exclude": [["[data-sonner-toaster]"]]})
    blocking = [
        v
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING or v["id"] in ALSO_BLOCKING_RULES
    ]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in blocking
    ]
    assert report == [], f"{what}: " + "\n".join(report)


def test_signed_out_pages(page: Page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "/login")
    page.goto("/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    assert_accessible(page, "/register")
    page.goto("/password-reset")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert_accessible(page, "/password-reset")
    page.goto("/password-reset/not-a-real-token")
    expect(page.get_by_text("This password reset link is not valid")).to_be_visible()
    assert_accessible(page, "a reset link that does not work")
    page.goto("/support/ticket/not-a-real-token")
    expect(page.get_by_text("This reply link is not valid or has expired.")).to_be_visible()
    assert_accessible(page, "a ticket reply link that does not work")
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page, "404")


def test_every_page_of_a_free_and_a_subscribed_organization(page: Page):
    register(page, unique_email("a11y"))
    assert_accessible(page, "create form")
    create_organization(page, "Accessible Org")
    pages = [("/organization", "Accessible Org"), *SIGNED_IN_PAGES]
    for path, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
        assert_accessible(page, path)

    page.goto("/organization/billing")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#plan-name")).to_have_text("Starter", timeout=20_000)
    assert_accessible(page, "subscribed billing")
    page.goto("/organization")
    expect(page.get_by_role("heading", name="Accessible Org")).to_be_visible(timeout=20_000)
    assert_accessible(page, "subscribed overview")


def test_the_invitation_page(page: Page, browser: Browser, base_url: str, mail_dir: Path):
    register(page, unique_email("a11y-owner"))
    create_organization(page, "Inviting Org")
    page.goto("/organization/members")
    invitee = unique_email("a11y-invitee")
    invite(page, invitee)
    page.set_viewport_size({"width": 390, "height": 844})  # the tables on a phone
    page.mouse.move(0, 0)
    assert_accessible(page, "members on a phone")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Account").first).to_be_visible(timeout=20_000)
    assert_accessible(page, "account on a phone")
    stranger = browser.new_context(base_url=base_url).new_page()
    stranger.goto(link_in(wait_for_mail(mail_dir, invitee, "invited you to join")))
    expect(stranger.get_by_role("button", name="Create account and join")).to_be_visible()
    assert_accessible(stranger, "invitation, new user")
    stranger.context.close()


def test_the_ticket_pages(page: Page):
    """The New ticket form, a ticket's page open and closed, and the list with a row."""
    register(page, unique_email("a11y-tickets"))
    create_organization(page, "Ticket Org")
    page.goto("/tickets")
    page.get_by_role("button", name="New ticket").click()
    form = page.get_by_label("New ticket")
    form.get_by_role("button", name="Create Ticket").click()
    expect(page.locator("#email-error")).to_be_visible()
    assert_accessible(page, "new ticket form with errors")
    form.get_by_label("Customer name").fill("Carl Customer")
    form.get_by_label("Customer email").fill("carl@example.com")
    form.get_by_label("Subject").fill("Called about an invoice")
    form.get_by_label("Message").fill("He cannot find the March invoice.")
    form.get_by_role("button", name="Create Ticket").click()
    expect(page.locator("#ticket-number")).to_have_text("TKT-001", timeout=20_000)
    assert_accessible(page, "ticket page")
    page.get_by_role("button", name="Close Ticket").click()
    expect(page.get_by_role("button", name="Reopen Ticket")).to_be_visible()
    assert_accessible(page, "closed ticket page")
    page.goto("/tickets?status=all")
    expect(page.get_by_label("Ticket TKT-001")).to_be_visible(timeout=20_000)
    assert_accessible(page, "ticket list with a row")


def test_the_ticket_reply_page(page: Page, browser: Browser, base_url: str, mail_dir: Path):
    """The requester's side of a ticket (signed out): the conversation and its form, a
    refused empty reply, and the confirmation once sent."""
    _, link = answered_ticket(page, mail_dir, "Replying Org", unique_email("a11y-reply"))
    customer = browser.new_context(base_url=base_url).new_page()
    customer.goto(link)
    expect(customer.get_by_role("button", name="Send reply")).to_be_visible(timeout=20_000)
    assert_accessible(customer, "ticket reply page")
    customer.get_by_role("button", name="Send reply").click()
    expect(customer.locator("#reply-error")).to_have_text("Reply is required.")
    assert_accessible(customer, "ticket reply page with an error")
    customer.get_by_label("Your reply").fill("Thank you!")
    customer.get_by_role("button", name="Send reply").click()
    expect(customer.get_by_text("Your reply was sent.")).to_be_visible()
    assert_accessible(customer, "ticket reply page, reply sent")
    customer.context.close()
