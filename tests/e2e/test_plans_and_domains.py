"""SPEC §5, §6, §15 as an Owner does it in the browser: the plan comparison with the current plan
marked and what a change does before paying; support seats that become the member limit, said
everywhere the limit shows; the seat stepper refusing 0; custom domain records with copy
buttons, Pending while DNS spreads, verified by the background re-check, Failed only for a
wrong record."""

import re

from playwright.sync_api import Page, expect

from tests.dns_server import LocalDns
from tests.e2e.helpers import (
    confirm_in_dialog,
    create_organization,
    invite,
    open_billing,
    open_members,
    register,
    unique_email,
    wait_for_hydration,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_custom_domains import open_domains
from tests.e2e.test_phone_layout import PHONE, assert_fits
from tests.e2e.test_two_factor import subscribe_professional

# Words (between spaces, hyphens and slashes) of a table's text drawn on more than one line.
BROKEN_WORDS = """(table) => {
  const broken = [];
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/[^\\s\\-\\/]+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""
SEAT_RULE = "Members are limited by your 2 support seats (the Starter plan alone allows 5)."


def pay(page: Page) -> None:
    expect(page.get_by_role("heading", name="Test checkout — no card is charged")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_text("Subscription active.")).to_be_visible(timeout=20_000)


def column(page: Page, plan: str):
    table = page.get_by_role("table", name="Plan comparison")
    return table.get_by_role("columnheader", name=re.compile(f"^{plan}"))


def test_the_pricing_table_and_what_a_plan_change_does_before_paying(page: Page):
    register(page, unique_email("plans"))
    create_organization(page, "Compare Co")
    open_billing(page)
    table = page.get_by_role("table", name="Plan comparison")
    expect(column(page, "Free")).to_contain_text("Current plan")
    expect(column(page, "Professional")).not_to_contain_text("Current plan")
    expect(table.get_by_role("row", name=re.compile("^Price per year"))).to_contain_text(
        "£199.90 (save £39.98)"
    )
    expect(table.get_by_role("row", name=re.compile("^Require two-factor"))).to_contain_text(
        "Included"
    )
    identity = table.get_by_role("row", name=re.compile("^Company domains, single sign-on"))
    expect(identity).to_contain_text("Included")
    assert table.evaluate(BROKEN_WORDS) == [], "a word of the plan comparison breaks mid-word"
    assert_accessible(page, "billing with the plan comparison")

    # choosing a plan says what changes and what it costs, before Checkout
    page.get_by_label("Plan", exact=True).select_option("Professional")
    expect(page.locator("#plan-change-headline")).to_have_text("Upgrading to Professional")
    lines = page.locator("#plan-change-lines")
    expect(lines).to_contain_text("Links: 50 → 10,000")
    expect(lines).to_contain_text("Members: 3 → 25")
    expect(lines).to_contain_text("Custom domains: 0 → 5")
    expect(page.locator("#plan-change-billing")).to_have_text("Billed £19.99 monthly.")
    page.get_by_label("Billing interval").select_option("Annual")
    expect(page.locator("#plan-change-billing")).to_have_text(
        "Billed £199.90 annually, saving £39.98 a year over monthly billing."
    )
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.locator("#checkout-description")).to_have_text(
        "Professional plan, billed annually"
    )
    pay(page)
    expect(page.locator("#plan-name")).to_have_text("Professional")
    expect(column(page, "Professional")).to_contain_text("Current plan")

    # two custom domains, then a downgrade to Starter (1 domain) says it before changing
    open_domains(page)
    for name in ("one.example.net", "two.example.net"):
        wait_for_hydration(page)
        page.get_by_label("Domain", exact=True).fill(name)
        page.get_by_role("button", name="Add Domain").click()
        expect(page.get_by_role("group", name=f"Domain {name}")).to_be_visible(timeout=20_000)
    open_billing(page)
    page.get_by_label("Plan", exact=True).select_option("Starter")
    page.get_by_label("Billing interval").select_option("Monthly")
    expect(page.locator("#plan-change-headline")).to_have_text("Downgrading to Starter")
    expect(page.locator("#plan-change-lines")).to_contain_text("Links: 10,000 → 500")
    expect(page.locator("#plan-change-stops")).to_contain_text(
        "You have 2 custom domains, more than Starter's 1"
    )
    expect(page.locator("#plan-change-billing")).to_contain_text("Billed £4.99 monthly from now on")
    confirm_in_dialog(page, page.get_by_role("button", name="Change plan"), "Change plan")
    expect(page.get_by_text("Plan changed to Starter, billed monthly.")).to_be_visible()
    expect(page.locator("#plan-name")).to_have_text("Starter")
    expect(column(page, "Starter")).to_contain_text("Current plan")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#pricing-table")).to_be_visible(timeout=20_000)
    assert_fits(page, "billing with the plan comparison")


def test_support_seats_become_the_member_limit_and_every_page_says_so(page: Page):
    register(page, unique_email("seat-rule"))
    create_organization(page, "Seat Rule Co")
    open_billing(page)
    page.get_by_role("button", name="Subscribe", exact=True).click()  # Starter: 5 members
    pay(page)
    expect(page.locator("#billing-member-limit")).to_have_text(
        "The Starter plan allows 5 members."
    )

    # the stepper cannot go below Seats Used; a typed 0 is refused beside it, without a price
    seats = page.get_by_label("Seats", exact=True)
    expect(seats).to_have_value("1")
    expect(page.get_by_role("button", name="Fewer support seats")).to_be_disabled()
    seats.fill("0")
    problem = page.locator("#support-seats-problem")
    expect(problem).to_have_text("At least 1 seat: the owner's seat counts too.")
    expect(page.locator("#support-cost")).to_have_text("—")
    page.get_by_role("button", name="Subscribe to Support").click()  # refused: no checkout
    expect(problem).to_have_text("At least 1 seat: the owner's seat counts too.")
    expect(page.get_by_role("heading", name="Support Subscription")).to_be_visible()
    seats.fill("1")
    expect(problem).to_be_hidden()
    page.get_by_role("button", name="More support seats").click()
    expect(seats).to_have_value("2")
    expect(page.locator("#support-cost")).to_have_text("£11.98")
    # before paying: the seats become the member limit
    expect(page.locator("#support-limit-summary")).to_have_text(
        "Your member limit becomes 2 (today 5): support seats replace the Starter plan's "
        "member limit."
    )
    assert_accessible(page, "the support checkout")
    page.get_by_role("button", name="Subscribe to Support").click()
    expect(page.locator("#checkout-description")).to_have_text("Support Subscription: 2 seats")
    pay(page)
    expect(page.locator("#billing-member-limit")).to_have_text(SEAT_RULE)

    # the overview's members bar, the invite form and the refusal say it too
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(page.locator("#usage-members-label")).to_have_text("1 / 2", timeout=20_000)
    expect(page.locator("#usage-members-note")).to_have_text(SEAT_RULE)
    open_members(page)
    expect(page.locator("#invite-limit-note")).to_have_text(SEAT_RULE)
    invite(page, unique_email("second"), "Agent")
    invite(page, unique_email("third"), "Agent", sent=False)
    expect(page.get_by_role("alert")).to_contain_text(
        "No seats available: members are limited by your 2 support seats (the Starter plan "
        "alone allows 5)."
    )


def test_domain_records_pending_background_verification_and_a_wrong_value(
    page: Page, local_dns: LocalDns, base_url: str
):
    register(page, unique_email("dns-setup"))
    create_organization(page, "Records Co")
    subscribe_professional(page)
    open_domains(page)
    wait_for_hydration(page)
    page.get_by_label("Domain", exact=True).fill("promo.example.org")
    page.get_by_role("button", name="Add Domain").click()
    row = page.get_by_role("group", name="Domain promo.example.org")
    expect(row).to_be_visible(timeout=20_000)
    expect(row.get_by_text("Pending", exact=True)).to_be_visible()
    expect(row.get_by_text("Pending — DNS changes can take up to 48 hours")).to_be_visible()
    expect(row.get_by_text("Verification failed")).to_have_count(0)

    # Type / Name / Value, each with its own Copy button
    cname = row.get_by_role("row", name="CNAME record for promo.example.org")
    expect(cname.locator("code")).to_have_text(["promo.example.org", "localhost"])
    txt = row.get_by_role("row", name="TXT record for promo.example.org")
    name, value = txt.locator("code").all_inner_texts()
    assert name == "_orgportal.promo.example.org"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    row.get_by_role("button", name="Copy TXT value for promo.example.org").click()
    expect(page.get_by_text("Value copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == value
    row.get_by_role("button", name="Copy CNAME value for promo.example.org").click()
    assert page.evaluate("navigator.clipboard.readText()") == "localhost"

    # the background re-check looks it up again: not found yet stays Pending...
    expect(row.get_by_text("TXT record not found yet")).to_be_visible(timeout=30_000)
    expect(row.get_by_text("Pending", exact=True)).to_be_visible()
    assert_accessible(page, "a pending domain with its records")
    # ...and once the record is there, it turns Verified with no click and no reload
    local_dns.set_txt(name, value)
    expect(row.get_by_text("Verified", exact=True)).to_be_visible(timeout=30_000)

    # a TXT record with another value: Failed, with the reason
    wait_for_hydration(page)
    page.get_by_label("Domain", exact=True).fill("wrong.example.org")
    page.get_by_role("button", name="Add Domain").click()
    wrong = page.get_by_role("group", name="Domain wrong.example.org")
    expect(wrong).to_be_visible(timeout=20_000)
    local_dns.set_txt("_orgportal.wrong.example.org", "orgportal-verify=not-this-one")
    wrong.get_by_role("button", name="Verify wrong.example.org").click()
    expect(wrong.get_by_text("Failed", exact=True)).to_be_visible(timeout=20_000)
    expect(wrong).to_contain_text(
        'Verification failed: the TXT record holds "orgportal-verify=not-this-one", not the '
        "value shown here."
    )

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("group", name="Domain wrong.example.org")).to_be_visible(
        timeout=20_000
    )
    assert_fits(page, "/organization/domains with records")
