"""Small content fixes as a person meets them: the links table (long targets on one line,
Copy, a taken slug under its field), one-line usage on Links and My Files, who uploaded a
file, the Business Details empty state, audit actions in words, pasted domains cleaned."""

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    open_settings,
    open_support,
    register,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible

LONG_TARGET = "https://example.com/campaigns/2026/winter/" + "very-long-path-segment/" * 8 + "end"
DATE_TIME = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$")


def test_links_table_truncates_targets_copies_and_puts_a_taken_slug_under_its_field(
    page: Page, base_url: str
):
    register(page, unique_email("polish-links"))
    create_organization(page, "Polish Links Co")
    page.get_by_role("link", name="Links", exact=True).click()
    expect(page.locator("#usage-links-line")).to_have_text("0 of 50 links used", timeout=20_000)
    expect(page.get_by_role("heading", name="Usage")).to_have_count(0)  # the card is on Overview

    slug = unique_email("sale").split("@")[0]
    page.get_by_label("Target URL").fill(LONG_TARGET)
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_role("button", name="Create Link").click()
    row = page.get_by_label(f"Link {slug}", exact=True)
    expect(row).to_be_visible()
    expect(page.locator("#usage-links-line")).to_have_text("1 of 50 links used")

    target = row.get_by_role("link", name=LONG_TARGET)
    expect(target).to_have_attribute("title", LONG_TARGET)  # the full address as a tooltip
    box = target.bounding_box()
    line_height = target.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert box is not None and box["height"] < 1.5 * line_height  # one line
    assert target.evaluate("e => e.scrollWidth > e.clientWidth")  # cut off, with an ellipsis
    assert target.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"

    copy = row.get_by_role("button", name=f"Copy short link {slug}")
    copy.focus()
    page.keyboard.press("Tab")  # the keyboard reaches the target: it shows in full
    expect(target).to_be_focused()
    expect(target).to_have_css("white-space", "normal")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.keyboard.press("Shift+Tab")  # back to Copy, still by keyboard
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Short link copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}/l/{slug}"

    page.get_by_label("Target URL").fill("https://example.com/other")
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_role("button", name="Create Link").click()
    expect(page.locator("#slug-error")).to_have_text(f"The short link /{slug} is already taken.")
    expect(page.get_by_label("Custom slug (optional)")).to_have_value(slug)  # what was typed
    expect(page.locator("#target_url-error")).to_have_count(0)
    assert_accessible(page, "/links with a long link")


def test_my_files_names_the_uploader_and_shows_one_usage_line(
    page: Page, browser: Browser, base_url: str, mail_dir: Path, tmp_path: Path
):
    register(page, unique_email("polish-files"), first="Olive", last="Owner")
    create_organization(page, "Polish Files Co")
    agent = unique_email("agent")
    open_members(page)
    invite(page, agent, "Agent")

    context = browser.new_context(base_url=base_url)
    member = context.new_page()
    join_as_new_user(member, mail_dir, agent, first="Aggie")
    member.get_by_role("link", name="My Files").click()
    expect(member.locator("#usage-storage-line")).to_have_text(
        "0 B of 100 MB storage used", timeout=20_000
    )
    expect(member.get_by_role("heading", name="Usage")).to_have_count(0)  # no members bar here
    notes = tmp_path / "agent-notes.txt"
    notes.write_text("hello " * 512)  # 3 KB
    member.get_by_label("Choose files to upload").set_input_files(str(notes))
    expect(member.get_by_label("File agent-notes.txt")).to_contain_text("Uploaded by Aggie Member")
    expect(member.locator("#usage-storage-line")).to_have_text("3 KB of 100 MB storage used")
    context.close()

    page.get_by_role("link", name="My Files").click()
    mine = tmp_path / "owner-plan.txt"
    mine.write_text("plan")
    page.get_by_label("Choose files to upload").set_input_files(str(mine))
    expect(page.get_by_label("File owner-plan.txt")).to_contain_text("Uploaded by Olive Owner")
    expect(page.get_by_label("File agent-notes.txt")).to_contain_text("Uploaded by Aggie Member")
    expect(page.locator("#usage-storage-line")).to_contain_text("of 100 MB storage used")


def test_business_details_start_with_an_empty_state_and_add(page: Page):
    register(page, unique_email("polish-biz"))
    create_organization(page, "Polish Business Co")
    open_settings(page)
    expect(page.get_by_text("No business details yet.")).to_be_visible()
    expect(page.get_by_text("VAT Number")).to_have_count(0)  # no empty labels
    expect(page.get_by_role("button", name="Edit business details")).to_have_count(0)

    page.get_by_role("button", name="Add business details").click()
    form = page.get_by_role("form", name="Business details")
    form.get_by_label("City").fill("Leeds")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Leeds")).to_be_visible()
    expect(page.get_by_text("No business details yet.")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit business details")).to_be_visible()


def test_audit_log_in_words_and_a_pasted_domain_is_cleaned(page: Page):
    register(page, unique_email("polish-audit"))
    create_organization(page, "Polish Audit Co")
    open_support(page)
    page.get_by_label("Domain", exact=True).fill("https://shop.example.com/")
    page.get_by_role("button", name="Add Domain").click()
    expect(page.get_by_text("Domain authorized. Saved as shop.example.com.")).to_be_visible()
    expect(page.get_by_label("Domain shop.example.com", exact=True)).to_be_visible()
    expect(page.locator("#domain-error")).to_have_count(0)

    page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name="Audit Log"
    ).click()
    expect(page.get_by_role("heading", name="Audit Log")).to_be_visible(timeout=20_000)
    added = page.get_by_role("row").filter(has_text="Authorized domain added")
    expect(added).to_contain_text("Authorized domain shop.example.com added")
    expect(page.get_by_role("row").filter(has_text="Organization created")).to_have_count(1)
    expect(page.get_by_text("support.domain_added")).to_have_count(0)
    when = added.get_by_role("cell").first.inner_text().strip()
    assert DATE_TIME.match(when), when
