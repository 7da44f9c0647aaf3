"""Roles and refusals as people meet them: a Viewer is shown only what a Viewer can
use, with one line saying who can help; a refused upload says why beside the control, and
each file of several gets its own outcome; the Links table shows click counts, and no table
breaks a word or cuts off a button, on a wide screen and on a phone."""

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    register,
    unique_email,
    wait_for_hydration,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_analytics import VISITOR_UA
from tests.e2e.test_phone_layout import PHONE, SHOTS, assert_fits

WIDE = {"width": 1280, "height": 900}
MB = 1024 * 1024


def test_a_viewer_sees_no_controls_they_cannot_use_and_who_can_help(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    page.set_viewport_size(WIDE)
    register(page, unique_email("roles-owner"))
    create_organization(page, "Roles Co")
    viewer_address = unique_email("roles-viewer")
    open_members(page)
    invite(page, viewer_address, "Viewer")
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Tickets")).to_be_visible()  # the Owner's

    context = browser.new_context(base_url=base_url, viewport=WIDE)
    viewer = context.new_page()
    join_as_new_user(viewer, mail_dir, viewer_address)
    nav = viewer.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Links")).to_be_visible()
    expect(nav.get_by_role("link", name="Tickets")).to_have_count(0)  # no use for it

    viewer.goto("/links")
    expect(viewer.get_by_text("Workspace: Roles Co")).to_be_visible(timeout=20_000)
    expect(viewer.locator("#links-read-only")).to_contain_text(
        "Ask an Admin to make you an Agent to create links."
    )
    expect(viewer.get_by_label("Target URL")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Create Link")).to_have_count(0)
    expect(viewer.get_by_role("heading", name="Links (0)")).to_be_visible()  # still the list
    assert_accessible(viewer, "/links as a Viewer")

    viewer.goto("/files")
    expect(viewer.locator("#files-read-only")).to_contain_text(
        "Ask an Admin to make you an Agent to upload files."
    )
    expect(viewer.get_by_label("Choose files to upload")).to_have_count(0)

    viewer.goto("/tickets")  # opened by its address: who answers tickets, not an error
    expect(viewer.locator("#tickets-read-only")).to_contain_text(
        "Ask an Admin to make you an Agent to see and answer them."
    )
    expect(viewer.get_by_role("alert")).to_have_count(0)
    expect(viewer.get_by_role("button", name="New ticket")).to_have_count(0)

    viewer.goto("/projects")
    expect(viewer.locator("#projects-read-only")).to_contain_text("Ask an Admin to create")
    expect(viewer.get_by_role("button", name="Create Project")).to_have_count(0)

    viewer.goto("/organization/members")
    expect(viewer.locator("#members-read-only")).to_contain_text("Ask an Admin to invite")
    expect(viewer.get_by_role("button", name="Send Invite")).to_have_count(0)

    viewer.goto("/organization/settings")
    expect(viewer.locator("#settings-read-only")).to_contain_text("Ask an Admin to change")
    expect(viewer.get_by_label("Organization Name")).to_have_count(0)

    viewer.goto("/approvals")
    expect(viewer.locator("#approvals-read-only")).to_be_visible(timeout=20_000)
    expect(viewer.get_by_role("button", name="Approve")).to_have_count(0)
    context.close()


def choose(page: Page, *paths: Path) -> None:
    page.get_by_label("Choose files to upload").set_input_files([str(p) for p in paths])


def outcome(page: Page, name: str) -> Locator:
    return page.get_by_role("list", name="Upload results").get_by_label(f"Upload of {name}")


def test_several_files_each_get_their_outcome(page: Page, tmp_path: Path):
    register(page, unique_email("outcomes"))
    create_organization(page, "Outcome Co")
    page.goto("/files")
    expect(page.locator("#upload-hint")).to_have_text("Up to 50 MB per upload now.")
    notes, empty = tmp_path / "notes.txt", tmp_path / "empty.txt"
    notes.write_text("hello")
    empty.write_bytes(b"")
    choose(page, notes, empty)
    expect(outcome(page, "notes.txt")).to_contain_text("Uploaded", timeout=20_000)
    expect(outcome(page, "empty.txt")).to_contain_text("Not uploaded")
    expect(outcome(page, "empty.txt")).to_contain_text("empty.txt is empty.")
    expect(page.get_by_label("File notes.txt")).to_be_visible()
    expect(page.get_by_label("File empty.txt")).to_have_count(0)
    assert_accessible(page, "/files with upload outcomes")


def test_a_refused_upload_says_why_beside_the_control(page: Page, tmp_path: Path):
    """Fill the Free plan's storage with two large files (their progress shows), then: a
    file larger than what is left is refused by the page before it is sent; two files that
    fit one by one but not together are refused by the server, and the page says why."""
    page.set_viewport_size(WIDE)
    register(page, unique_email("refusals"))
    create_organization(page, "Refusal Co")
    page.goto("/files")
    hint = page.locator("#upload-hint")
    expect(hint).to_have_text("Up to 50 MB per upload now.")

    big = [tmp_path / "part-1.bin", tmp_path / "part-2.bin"]
    for part in big:
        with part.open("wb") as out:
            out.truncate(47 * MB)
    # a slow network, so the upload's progress can be seen
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 15 * MB},
    )
    choose(page, big[0])
    expect(outcome(page, "part-1.bin")).to_contain_text("Uploading…")
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    expect(page.locator("#upload-progress-text")).to_have_text(
        re.compile(r"^Uploading… [1-9]\d?%$"), timeout=10_000
    )
    expect(outcome(page, "part-1.bin")).to_contain_text("Uploaded", timeout=90_000)
    expect(page.locator("#upload-progress")).to_have_count(0)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    choose(page, big[1])
    expect(outcome(page, "part-2.bin")).to_contain_text("Uploaded", timeout=60_000)
    expect(hint).to_have_text("Up to 6 MB per upload now.")

    # larger than what is left: refused before a byte is sent
    large = tmp_path / "large.bin"
    large.write_bytes(b"x" * 7 * MB)
    choose(page, large)
    expect(outcome(page, "large.bin")).to_contain_text("Not uploaded")
    expect(outcome(page, "large.bin")).to_contain_text("Larger than the 6 MB allowed now.")

    # each fits, together they do not: the server refuses the upload, the page says why
    halves = [tmp_path / "half-1.bin", tmp_path / "half-2.bin"]
    for half in halves:
        half.write_bytes(b"y" * 4 * MB)
    choose(page, *halves)
    reason = "This upload is larger than the 6 MB allowed now."
    expect(outcome(page, "half-1.bin")).to_contain_text(reason, timeout=20_000)
    expect(outcome(page, "half-2.bin")).to_contain_text(reason)
    expect(outcome(page, "large.bin")).to_have_count(0)  # the list is of this upload

    # one fits, one does not: each gets its outcome
    small = tmp_path / "small.txt"
    small.write_text("fits")
    choose(page, small, large)
    expect(outcome(page, "small.txt")).to_contain_text("Uploaded", timeout=20_000)
    expect(outcome(page, "large.bin")).to_contain_text("Larger than the 6 MB allowed now.")
    expect(page.get_by_label("File small.txt")).to_be_visible()
    expect(page.get_by_label("File half-1.bin")).to_have_count(0)
    assert_accessible(page, "/files with refused uploads")


# Cells whose content overflows them (a word cut off, a button clipped), and one-line things
# (short codes, counts, roles, dates, buttons) that wrapped onto a second line.
OVERFLOWING_CELLS = """(table) => [...table.querySelectorAll('td')]
  .filter((td) => td.offsetParent !== null && td.scrollWidth > td.clientWidth + 1)
  .map((td) => td.textContent.trim().slice(0, 40))"""
# Whether an element's text runs over more than one line: two of its text fragments one
# above the other (a control beside the text, like a checkbox, does not count).
TEXT_WRAPS = """(e) => { const rects = [];
  const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) { if (!walk.currentNode.textContent.trim()) continue;
    const r = document.createRange(); r.selectNodeContents(walk.currentNode);
    rects.push(...[...r.getClientRects()].filter((x) => x.width > 0)); }
  return rects.some((a) => rects.some((b) => a.bottom <= b.top + 1)); }"""
# One-line things (short links, counts, roles, dates, badges, buttons) on more than one line.
WRAPPED = (
    """(table) => { const wraps = """
    + TEXT_WRAPS
    + """; return [...table.querySelectorAll('td button, td .rt-Badge, td select,'
    + ' td .link-short, td .link-target, td .link-clicks p, td .one-line-check')]
  .filter((e) => e.offsetParent !== null).filter(wraps)
  .map((e) => e.textContent.trim().slice(0, 40)); }"""
)
CUT_BUTTONS = """(table) => [...table.querySelectorAll('td button, td select')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => { const c = e.closest('td').getBoundingClientRect();
                   const b = e.getBoundingClientRect();
                   return b.right > c.right + 1 || b.left < c.left - 1; })
  .map((e) => e.getAttribute('aria-label') || e.textContent.trim())"""


def assert_no_broken_words(page: Page, table: Locator, what: str) -> None:
    if SHOTS:
        name = what.strip("/").replace("/", "-").replace(" ", "-")
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
    handle = table.element_handle()
    assert handle is not None
    assert page.evaluate(OVERFLOWING_CELLS, handle) == [], f"{what}: a cell overflows"
    assert page.evaluate(WRAPPED, handle) == [], f"{what}: a one-line value wrapped"
    assert page.evaluate(CUT_BUTTONS, handle) == [], f"{what}: a control is cut off"


def one_line(locator: Locator) -> None:
    assert not locator.evaluate(TEXT_WRAPS), f"{locator} wraps"


def test_links_show_their_clicks_and_no_table_breaks_a_word(page: Page, base_url: str):
    page.set_viewport_size(WIDE)
    register(page, unique_email("clicks"))
    create_organization(page, "Clicks Co")
    slug = unique_email("clicked").split("@")[0]
    page.goto("/links")
    wait_for_hydration(page)
    page.get_by_label("Target URL").fill(
        f"{base_url}/login?campaign=" + "a-long-campaign-name-" * 8
    )
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_role("button", name="Create Link").click()
    row = page.get_by_label(f"Link {slug}", exact=True)
    expect(row).to_contain_text("0 total")
    expect(row).to_contain_text("0 in 7 days")

    for _ in range(3):  # three people follow the link
        followed = httpx.get(
            f"{base_url}/l/{slug}", headers={"User-Agent": VISITOR_UA}, follow_redirects=False
        )
        assert followed.status_code in (302, 307)
    for _ in range(20):  # clicks are rolled up by a background writer
        page.reload()
        wait_for_hydration(page)
        if "3 total" in (row.text_content(timeout=20_000) or ""):
            break
        page.wait_for_timeout(500)
    expect(row).to_contain_text("3 total")
    expect(row).to_contain_text("3 in 7 days")

    table = page.get_by_role("table").first
    one_line(row.locator(".link-short"))
    one_line(row.locator(".link-target"))
    assert row.locator(".link-target").evaluate("e => e.scrollWidth > e.clientWidth")
    assert_no_broken_words(page, table, "/links at 1280")
    assert_accessible(page, "/links with click counts")

    page.goto("/organization")  # invites with long addresses and every role: Resend, Revoke
    open_members(page)
    for role in ("Admin", "Billing Admin"):  # the Free plan's 3 seats
        invite(page, unique_email(f"a-rather-long-address-for-{role.lower().replace(' ', '-')}"),
               role)  # fmt: skip
    tables = page.get_by_role("table")
    expect(tables).to_have_count(2)
    assert_no_broken_words(page, tables.nth(0), "members at 1280")
    assert_no_broken_words(page, tables.nth(1), "invites at 1280")
    revoke = page.get_by_role("button", name="Revoke").first
    one_line(revoke)

    page.set_viewport_size(PHONE)
    page.goto("/links")
    expect(row).to_contain_text("3 total", timeout=20_000)
    assert_fits(page, "/links")
    assert_no_broken_words(page, page.get_by_role("table").first, "/links at 390")
    one_line(row.locator(".link-short"))
    page.goto("/organization/members")
    expect(page.get_by_role("table")).to_have_count(2, timeout=20_000)
    assert_fits(page, "/organization/members")
    for index in range(2):
        assert_no_broken_words(page, page.get_by_role("table").nth(index), "members at 390")
