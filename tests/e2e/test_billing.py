"""Billing in test mode, as an owner and an agent do it in the browser: the plan and support
seats on the Billing sub-page, a plan summary on the overview."""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    confirm_in_dialog,
    create_organization,
    invite,
    join_as_new_user,
    open_billing,
    open_members,
    register,
    unique_email,
)


def pay_test_checkout(page: Page) -> None:
    expect(page.get_by_role("heading", name="Test checkout — no card is charged")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_text("Subscription active.")).to_be_visible(timeout=20_000)


def plan_summary(page: Page):
    return page.get_by_role("region", name="Plan summary")


def test_subscribe_starter_monthly_then_a_failed_payment_shows_past_due(page: Page):
    register(page, unique_email("billing"))
    create_organization(page, "Plan Co")
    expect(plan_summary(page)).to_contain_text("Plan: Free")
    plan_summary(page).get_by_role("link", name="Billing").click()
    expect(page).to_have_url(re.compile(r"/organization/billing/?$"))
    expect(page.locator("#plan-name")).to_have_text("Free")
    expect(page.locator("#plan-link-limit")).to_have_text("50")

    page.get_by_label("Plan", exact=True).select_option("Basic")
    page.get_by_label("Billing interval").select_option("Annual")
    expect(page.locator("#plan-price")).to_have_text("£99.90 / year")
    page.get_by_label("Plan", exact=True).select_option("Starter")
    page.get_by_label("Billing interval").select_option("Monthly")
    expect(page.locator("#plan-price")).to_have_text("£4.99 / month")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.locator("#checkout-description")).to_have_text("Starter plan, billed monthly")
    pay_test_checkout(page)

    expect(page).to_have_url(re.compile(r"/organization/billing/?\?checkout=success"))
    expect(page.locator("#plan-name")).to_have_text("Starter")
    expect(page.locator("#plan-status")).to_have_text("Active")
    expect(page.locator("#plan-link-limit")).to_have_text("500")

    page.get_by_role("button", name="Manage Billing").click()
    expect(
        page.get_by_role("heading", name="Test billing portal — no card is charged")
    ).to_be_visible()
    page.get_by_role("button", name="Simulate failed payment").click()
    expect(page.get_by_text("the plan is now past due")).to_be_visible()
    page.get_by_role("link", name="Return to Billing").click()
    expect(page).to_have_url(re.compile(r"/organization/billing/?$"))
    expect(page.locator("#plan-status")).to_have_text("Past Due")
    expect(page.get_by_role("alert")).to_contain_text("The last payment failed")

    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(plan_summary(page)).to_contain_text("Plan: Starter")
    expect(page.locator("#plan-summary-status")).to_have_text("Past Due")


def test_support_seats_stepper_bounds_cost_preview_and_update(page: Page):
    register(page, unique_email("seats"))
    create_organization(page, "Seat Co")
    open_billing(page)
    expect(page.locator("#seat-price")).to_have_text("£5.99")  # SEAT_PRICE_PENCE's default
    expect(page.get_by_label("Support features (locked)")).to_contain_text("Ticket Prefix")

    page.get_by_role("button", name="Subscribe to Support").click()
    expect(page.locator("#checkout-description")).to_have_text("Support Subscription: 1 seat")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_text("Checkout canceled: nothing was charged.")).to_be_visible()
    expect(page.get_by_role("button", name="Subscribe to Support")).to_be_visible()

    page.get_by_role("button", name="Subscribe to Support").click()
    pay_test_checkout(page)

    expect(page.locator("#seats-purchased")).to_have_text("1")
    expect(page.locator("#seats-used")).to_have_text("1")
    expect(page.locator("#monthly-cost")).to_have_text("£5.99")
    expect(page.get_by_role("button", name="Fewer seats")).to_be_disabled()  # not below Seats Used

    page.get_by_role("button", name="More seats").click()
    page.get_by_role("button", name="More seats").click()
    expect(page.locator("#seats-pending")).to_have_text("3")
    expect(page.locator("#pending-cost")).to_have_text("£17.97")
    page.get_by_role("button", name="Fewer seats").click()
    expect(page.locator("#pending-cost")).to_have_text("£11.98")
    page.get_by_role("button", name="More seats").click()
    confirm_in_dialog(page, page.get_by_role("button", name="Update"), "Update seats")
    expect(page.get_by_text("Seats updated to 3.")).to_be_visible()
    expect(page.locator("#seats-purchased")).to_have_text("3")

    page.reload()
    expect(page.locator("#seats-purchased")).to_have_text("3")
    expect(page.locator("#monthly-cost")).to_have_text("£17.97")


def test_an_agent_sees_the_plan_but_no_billing_controls(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    register(page, unique_email("boss"))
    create_organization(page, "Agent Co")
    open_members(page)
    agent = unique_email("agent")
    invite(page, agent, "Agent")

    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        join_as_new_user(other, mail_dir, agent)
        expect(other.locator("#role-badge")).to_have_text("Agent")
        expect(plan_summary(other)).to_contain_text("Plan: Free")

        open_billing(other)
        expect(other.locator("#plan-name")).to_have_text("Free")
        expect(other.get_by_text("An Owner or Billing Admin can subscribe.")).to_be_visible()
        # the plan comparison read-only: no plan choice, no summary, no Change plan
        expect(other.get_by_role("table", name="Plan comparison")).to_be_visible()
        expect(other.get_by_text("An Owner or Billing Admin can change the plan.")).to_be_visible()
        expect(other.get_by_label("Plan", exact=True)).to_have_count(0)
        for name in ("Subscribe", "Subscribe to Support", "Manage Billing", "Update", "Change plan"):
            expect(other.get_by_role("button", name=name, exact=True)).to_have_count(0)

        # an Agent sees no control it cannot use: no invite form, no audit log anywhere
        open_members(other)
        expect(other.get_by_role("button", name="Send Invite")).to_have_count(0)
        sidebar = other.get_by_role("navigation", name="Organization")
        expect(sidebar.get_by_role("link", name="Audit Log")).to_have_count(0)
        other.get_by_role("button", name="Profile menu").click()
        expect(other.get_by_role("menuitem", name="Sign out")).to_be_visible()
        expect(other.get_by_role("menuitem", name="Audit Log")).to_have_count(0)
        other.keyboard.press("Escape")
    finally:
        context.close()


def test_support_checkout_asks_the_seat_count_and_warns_below_the_plan_limit(page: Page):
    register(page, unique_email("support-seats"))
    create_organization(page, "Seat Count Co")
    open_billing(page)
    page.get_by_role("button", name="Subscribe", exact=True).click()  # Starter: 5 members
    pay_test_checkout(page)
    expect(page.locator("#plan-name")).to_have_text("Starter")

    seats = page.get_by_label("Seats", exact=True)
    expect(seats).to_have_value("1")  # default: Seats Used
    summary = page.locator("#support-limit-summary")
    expect(summary).to_have_text(
        "Your member limit becomes 1 (today 5): support seats replace the Starter plan's "
        "member limit."
    )
    seats.fill("6")
    expect(summary).to_contain_text("Your member limit becomes 6 (today 5)")
    expect(page.locator("#support-cost")).to_have_text("£35.94")
    seats.fill("2")
    expect(summary).to_contain_text("Your member limit becomes 2 (today 5)")
    page.get_by_role("button", name="Subscribe to Support").click()
    expect(page.locator("#checkout-description")).to_have_text("Support Subscription: 2 seats")
    pay_test_checkout(page)
    expect(page.locator("#seats-purchased")).to_have_text("2")

    # the seats are now the member limit: the third seat is refused, with a way to add one
    open_members(page)
    invite(page, unique_email("second"), "Agent")
    invite(page, unique_email("third"), "Agent", sent=False)
    expect(page.get_by_role("alert")).to_contain_text("No seats available")
    page.get_by_role("link", name="Add seats").click()
    expect(page).to_have_url(re.compile(r"/organization/billing/?#seats$"))
    expect(page.locator("#seats-purchased")).to_have_text("2")


def test_support_checkout_refuses_fewer_seats_than_are_used(page: Page):
    register(page, unique_email("support-min"))
    create_organization(page, "Min Seat Co")
    open_members(page)
    invite(page, unique_email("member"), "Agent")  # 2 seats used
    open_billing(page)
    seats = page.get_by_label("Seats", exact=True)
    expect(seats).to_have_value("2")
    seats.fill("1")
    page.get_by_role("button", name="Subscribe to Support").click()
    expect(page.get_by_role("alert")).to_contain_text("Seats cannot go below 2")
    expect(page).to_have_url(re.compile(r"/organization/billing/?$"))
