"""Links, My Files and the live usage bars, as members do it in their own browsers."""

import base64
import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    confirm_in_dialog,
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    register,
    unique_email,
)

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_a_members_new_link_moves_the_owners_bar_without_reload(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    register(page, unique_email("owner"))
    create_organization(page, "Live Co")
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")
    agent = unique_email("agent")
    open_members(page)
    invite(page, agent, "Agent")
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(page.locator("#usage-members-label")).to_have_text("2 / 3")  # pending invite counts
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")

    context = browser.new_context(base_url=base_url)
    member = context.new_page()
    join_as_new_user(member, mail_dir, agent)
    member.get_by_role("link", name="Links", exact=True).click()
    expect(member.get_by_text("Workspace: Live Co")).to_be_visible()
    member.get_by_label("Target URL").fill("https://example.com/spring")
    member.get_by_label("Custom slug (optional)").fill("live-spring")
    member.get_by_role("button", name="Create Link").click()
    expect(member.get_by_label("Link live-spring", exact=True)).to_be_visible()

    expect(page.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)  # no reload
    confirm_in_dialog(
        member,
        member.get_by_label("Link live-spring", exact=True).get_by_role("button", name="Delete"),
        "Delete link",
    )
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50", timeout=5_000)
    context.close()


def test_a_removed_members_open_page_receives_no_further_usage_frames(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    """The live push sends frames straight to the sockets of an organization's pages; it
    checks membership first, so a page left open by a removed member hears nothing more."""
    register(page, unique_email("owner"))
    create_organization(page, "Gone Co")
    agent = unique_email("agent")
    open_members(page)
    invite(page, agent, "Agent")

    context = browser.new_context(base_url=base_url)
    member = context.new_page()
    join_as_new_user(member, mail_dir, agent)
    usage_frames: list[str] = []
    member.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: usage_frames.append(payload) if "links_used" in str(payload) else None,
        ),
    )
    member.goto("/organization")
    expect(member.locator("#usage-links-label")).to_have_text("0 / 50")

    watching = page.context.new_page()  # the owner's other tab: proves the push happened
    watching.goto("/organization")
    expect(watching.locator("#usage-links-label")).to_have_text("0 / 50")
    page.reload()
    expect(page.get_by_label(f"Member {agent}")).to_be_visible()
    usage_frames.clear()
    confirm_in_dialog(
        page,
        page.get_by_label(f"Member {agent}").get_by_role("button", name="Remove"),
        "Remove member",
    )
    expect(page.get_by_text("Member removed.")).to_be_visible()
    expect(watching.locator("#usage-members-label")).to_have_text("1 / 3", timeout=5_000)
    page.goto("/links")
    page.get_by_label("Target URL").fill("https://example.com/after-removal")
    page.get_by_role("button", name="Create Link").click()
    expect(watching.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)

    expect(member.locator("#usage-links-label")).to_have_text("0 / 50")
    # A barrier on the member's own socket, instead of a wait: its Sign out is answered after
    # any frame that push sent it (one socket delivers in order; the push reached the
    # owner's tab before the click).
    member.get_by_role("button", name="Profile menu").click()
    member.get_by_role("menuitem", name="Sign out").click()
    expect(member.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    assert usage_frames == []
    context.close()


def test_short_links_redirect_and_bad_input_is_refused(page: Page, base_url: str):
    register(page, unique_email("links"))
    page.goto("/links")
    expect(page.get_by_text("Workspace: Personal Workspace")).to_be_visible()
    page.get_by_label("Target URL").fill("ftp://example.com")
    page.get_by_label("Custom slug (optional)").fill("login")
    page.get_by_role("button", name="Create Link").click()
    expect(page.locator("#target_url-error")).to_contain_text("http:// or https://")
    expect(page.locator("#slug-error")).to_contain_text("reserved")
    expect(page.get_by_text("No links yet.")).to_be_visible()

    slug = unique_email("go").split("@")[0]
    page.get_by_label("Target URL").fill("https://example.com/target")
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_label(f"Link {slug}", exact=True)).to_be_visible()
    for path in (f"/l/{slug}", f"/{slug}"):
        response = httpx.get(base_url + path, follow_redirects=False)
        assert response.status_code == 302
        assert response.headers["location"] == "https://example.com/target"
    assert httpx.get(f"{base_url}/l/no-such-link").status_code == 404


def test_my_files_upload_download_delete_and_storage_line(page: Page, tmp_path):
    register(page, unique_email("files"))
    create_organization(page, "Files Co")
    page.get_by_role("link", name="My Files").click()
    notes = tmp_path / "notes.txt"
    notes.write_text("hello " * 512)  # 3 KB
    page.get_by_label("Choose files to upload").set_input_files(str(notes))
    row = page.get_by_label("File notes.txt")
    expect(row).to_contain_text("3 KB")
    expect(page.locator("#usage-storage-line")).to_have_text("3 KB of 100 MB storage used")

    with page.expect_download() as download:
        row.get_by_role("link", name="notes.txt").click()
    assert download.value.suggested_filename == "notes.txt"
    assert Path(download.value.path()).read_text() == notes.read_text()

    confirm_in_dialog(page, row.get_by_role("button", name="Delete"), "Delete file")
    expect(page.get_by_text("No files yet.")).to_be_visible()
    expect(page.locator("#usage-storage-line")).to_have_text("0 B of 100 MB storage used")


def test_the_logo_picker_offers_my_files_images(page: Page, tmp_path):
    register(page, unique_email("logo"))
    page.goto("/files")  # Personal Workspace
    image = tmp_path / "brand.png"
    image.write_bytes(PNG_1x1)
    page.get_by_label("Choose files to upload").set_input_files(str(image))
    expect(page.get_by_label("File brand.png")).to_be_visible()

    page.get_by_role("link", name="Organization", exact=True).click()
    page.get_by_label("Organization Name").fill("Logo Co")
    page.get_by_label("Pick from My Files").select_option("brand.png")
    expect(page.get_by_text("Uploaded logo will be used")).to_be_visible()
    page.get_by_role("button", name="Create Organization").click()
    expect(page.get_by_role("heading", name="Logo Co")).to_be_visible(timeout=20_000)
    logo = page.get_by_role("img", name="Logo")
    expect(logo).to_have_attribute("src", re.compile(r"^/api/logos/.+\.png$"))
