"""Analytics as a member sees it (SPEC §14): a visitor in another browser follows a short
link with a referrer, and the open /analytics page's chart and counts move, no reload."""

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import create_organization, register, unique_email, wait_for_hydration
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_phone_layout import PHONE, assert_fits

VISITOR_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def test_a_followed_link_moves_the_open_analytics_page(page: Page, browser: Browser, base_url):
    register(page, unique_email("analytics"))
    create_organization(page, "Click Co")
    slug = unique_email("promo").split("@")[0]
    page.goto("/links")
    wait_for_hydration(page)
    page.get_by_label("Target URL").fill(f"{base_url}/login?utm=spring")
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_label("Append a click id (op_click) to the target").check()
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_label(f"Link {slug}", exact=True)).to_be_visible()
    toggle = page.get_by_role("checkbox", name=f"Click id for {slug}")
    expect(toggle).to_be_checked()
    toggle.click()  # off, and on again: the row's switch for an existing link
    expect(toggle).not_to_be_checked()
    # its toast opens under the pointer and stays while hovered, over the switch
    page.mouse.move(0, 0)
    toggle.click()
    expect(toggle).to_be_checked()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(page.locator("#analytics-clicks")).to_have_text("0")
    bars = page.locator("#analytics-chart path.recharts-rectangle")
    expect(bars).to_have_count(0)
    expect(page.locator("#analytics-chart")).to_have_attribute(
        "aria-label", re.compile(r": 0 clicks in all")
    )

    # a visitor in another browser follows the link from another site; the target is a
    # page of this app (no internet here), its address gains the click id
    visitor_context = browser.new_context(base_url=base_url, user_agent=VISITOR_UA)
    visitor = visitor_context.new_page()
    visitor.goto(f"/l/{slug}", referer="https://news.example.org/story/42")
    expect(visitor).to_have_url(re.compile(r"/login/?\?utm=spring&op_click=[A-Za-z0-9_-]{20,}$"))

    # the open page moves by itself: counts, chart and tables
    expect(page.locator("#analytics-clicks")).to_have_text("1", timeout=10_000)
    expect(bars).to_have_count(1)
    expect(page.locator("#analytics-chart")).to_have_attribute(
        "aria-label", re.compile(r": 1 click in all")
    )
    expect(page.get_by_role("table", name="Top referrers")).to_contain_text("news.example.org")
    expect(page.get_by_role("table", name="Top links")).to_contain_text(f"/l/{slug}")
    expect(page.get_by_role("table", name="Browsers")).to_contain_text("Chrome")
    expect(page.get_by_role("table", name="Devices")).to_contain_text("desktop")

    # a second visit from the same browser: same visitor, two clicks
    visitor.goto(f"/l/{slug}", referer="https://news.example.org/story/42")
    expect(page.locator("#analytics-clicks")).to_have_text("2", timeout=10_000)
    visitor_context.close()

    page.get_by_label("Period").select_option("Last 7 days")
    expect(page).to_have_url(f"{base_url}/analytics?days=7")
    expect(page.locator("#analytics-clicks")).to_have_text("2")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("date,link,project,clicks,bot_visits,conversions,conversion_value")
    assert f"/l/{slug},,2,0,0,0.00" in text

    # with figures on it, the page passes axe and fits a phone (the page lists of
    # test_accessibility.py and test_phone_layout.py check it empty)
    page.locator("summary", has_text="Clicks per day as a table").click()
    assert_accessible(page, "/analytics with clicks")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#analytics-clicks")).to_have_text("2")
    assert_fits(page, "/analytics on a phone")
