"""A personal plan, bought in the Personal Workspace as a person does it: the Plan section of
/account (test-mode Checkout and portal), the line saying which plan is in effect and why,
and the personal usage summary on /links and /files."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import register, unique_email
from tests.e2e.test_accessibility import assert_accessible


def open_from_nav(page: Page, name: str, heading: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).first.click()
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
    page.mouse.move(0, 0)  # a person's pointer moves on (a hovered link changes colour)


def test_buying_a_personal_plan_raises_the_personal_link_limit(page: Page):
    register(page, unique_email("personal"))  # the Personal Workspace is active
    open_from_nav(page, "Links", "Links")
    expect(page.locator("#usage-links-line")).to_have_text("0 of 50 links used")
    open_from_nav(page, "My Files", "My Files")
    expect(page.locator("#usage-storage-line")).to_have_text("0 B of 100 MB storage used")

    open_from_nav(page, "Account", "Account")
    open_from_nav(page, "Plan", "Plan")  # the Account page's Plan section
    plan = page.get_by_role("region", name="Plan")
    expect(plan.locator("#personal-plan-source")).to_have_text("Your plan: Free")
    assert_accessible(page, "account with the Plan section")
    plan.get_by_label("Plan", exact=True).select_option("Professional")
    plan.get_by_label("Billing interval").select_option("Monthly")
    expect(plan.locator("#personal-plan-price")).to_have_text("£19.99 / month")
    plan.get_by_role("button", name="Subscribe").click()
    # changing one's mind leads back to Account's Plan, where the purchase started
    expect(page.get_by_role("heading", name="Test checkout — no card is charged")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/account/plan/?\?checkout=canceled"), timeout=20_000)
    plan.get_by_label("Plan", exact=True).select_option("Professional")
    plan.get_by_label("Billing interval").select_option("Monthly")
    plan.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading", name="Test checkout — no card is charged")).to_be_visible()
    expect(page.locator("#checkout-description")).to_have_text("Professional plan, billed monthly")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/account/plan/?\?checkout=success"), timeout=20_000)
    expect(page.get_by_text("Subscription active.")).to_be_visible(timeout=20_000)
    expect(plan.locator("#personal-plan-source")).to_have_text(
        "Your plan: Professional — your own subscription"
    )
    expect(plan.locator("#personal-plan-status")).to_have_text(re.compile("active", re.I))
    assert_accessible(page, "account with an active personal plan")

    open_from_nav(page, "Links", "Links")
    expect(page.locator("#usage-links-line")).to_have_text("0 of 10,000 links used")

    open_from_nav(page, "Account", "Account")
    open_from_nav(page, "Plan", "Plan")
    page.get_by_role("button", name="Manage Billing").click()
    expect(
        page.get_by_role("heading", name="Test billing portal — no card is charged")
    ).to_be_visible()
    expect(page.locator("#portal-plan")).to_have_text("Professional")
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_text("Subscription canceled.")).to_be_visible()
    expect(page.locator("#portal-plan")).to_have_text("")
    page.get_by_role("link", name="Return to Account").click()
    expect(page.get_by_role("heading", name="Account").first).to_be_visible(timeout=20_000)

    page.goto("/links")  # the test portal has no navigation (like Stripe's)
    expect(page.locator("#usage-links-line")).to_have_text("0 of 50 links used")


def test_personal_usage_moves_live_in_another_tab(page: Page):
    """Two tabs of the Personal Workspace: a link made in one moves the other's usage line."""
    register(page, unique_email("personal-live"))
    open_from_nav(page, "Links", "Links")
    expect(page.locator("#usage-links-line")).to_have_text("0 of 50 links used")

    other = page.context.new_page()
    other.goto("/links")
    expect(other.get_by_text("Workspace: Personal Workspace")).to_be_visible(timeout=20_000)
    other.get_by_label("Target URL").fill("https://example.com/personal")
    other.get_by_role("button", name="Create Link").click()
    expect(other.locator("#usage-links-line")).to_have_text("1 of 50 links used")

    expect(page.locator("#usage-links-line")).to_have_text("1 of 50 links used", timeout=5_000)
