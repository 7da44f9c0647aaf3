"""Organization API keys as an Owner uses them (SPEC §17): made on the organization's
Settings with scopes and an expiry, the secret copied once, used from a script within its
scopes, rotated and revoked; a Viewer of the organization never sees them."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_email,
    confirm_in_dialog,
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    open_settings,
    register,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible


def test_an_owner_creates_uses_rotates_and_revokes_an_organization_key(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    owner_address = unique_email("orgkeys-owner")
    register(page, owner_address)
    create_organization(page, "Keys Co")
    confirm_email(page, mail_dir, owner_address)  # a key outlives its maker: only confirmed
    viewer_address = unique_email("orgkeys-viewer")
    open_members(page)
    invite(page, viewer_address, "Viewer")

    open_settings(page)
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert_accessible(page, "/organization/settings with API keys")

    # No scope chosen: told beside the scopes, nothing made.
    page.get_by_label("Key name").fill("Zapier")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#scopes-error")).to_have_text("Choose at least one scope.")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    expires = (datetime.now(UTC) + timedelta(days=30)).date()
    page.get_by_role("checkbox", name=re.compile(r"^Links")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Read-only")).check()
    page.get_by_label("Expires on (optional)").fill(expires.isoformat())
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create key").click()
    shown = page.locator("#new-org-api-key")
    expect(shown).to_contain_text("opk_")
    key = shown.inner_text().strip()
    row = page.get_by_label("API key Zapier")
    expect(row).to_contain_text("Read-only, Links")
    expect(row).to_contain_text(f"{expires.day} {expires:%b %Y}")  # works through that day
    expect(row).to_contain_text("Never")  # not used yet
    expect(row).to_contain_text(key[:12])

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("API key copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert_accessible(page, "/organization/settings with a new key shown")

    # A script uses it: links are in scope, members are not.
    api = httpx.Client(base_url=f"{base_url}/api", headers={"Authorization": f"Bearer {key}"})
    made = api.post("/links", json={"target_url": "https://example.com/from-zapier"})
    assert made.status_code == 201, made.text
    org_id = made.json()["organization_id"]
    listed = api.get(f"/organizations/{org_id}/members")
    assert listed.status_code == 200
    owner_id = next(m["user_id"] for m in listed.json()["items"] if m["role"] == "owner")
    refused = api.delete(f"/organizations/{org_id}/members/{owner_id}")
    assert refused.status_code == 403
    assert "needs the Members scope" in refused.json()["detail"]

    page.reload()
    expect(page.locator("#new-org-api-key")).to_have_count(0)  # never shown again
    expect(page.get_by_text(key)).to_have_count(0)
    expect(page.get_by_label("API key Zapier")).to_contain_text(re.compile(r"UTC from \S+"))

    # Rotating asks for the password again; a wrong one changes nothing.
    page.get_by_label("API key Zapier").get_by_role("button", name="Rotate").click()
    dialog = page.get_by_role("alertdialog", name="Rotate API key")
    expect(dialog).to_contain_text("Zapier")
    assert_accessible(page, "the Rotate dialog")
    dialog.get_by_label("Your password").fill("not my password")
    dialog.get_by_role("button", name="Rotate key").click()
    expect(dialog.locator("#rotate_password-error")).to_have_text(
        "Your current password is incorrect."
    )
    assert api.get("/links").status_code == 200  # still the old secret
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Rotate key").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#new-org-api-key")).to_contain_text("opk_")
    rotated = page.locator("#new-org-api-key").inner_text().strip()
    assert rotated != key
    assert api.get("/links").status_code == 401
    new_api = httpx.Client(
        base_url=f"{base_url}/api", headers={"Authorization": f"Bearer {rotated}"}
    )
    assert new_api.get("/links").status_code == 200

    confirm_in_dialog(
        page, page.get_by_label("API key Zapier").get_by_role("button", name="Revoke"),
        "Revoke key",
    )  # fmt: skip
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert new_api.get("/links").status_code == 401

    # A Viewer of the same organization: no API keys card, nothing to use.
    context = browser.new_context(base_url=base_url)
    viewer = context.new_page()
    join_as_new_user(viewer, mail_dir, viewer_address)
    viewer.goto("/organization/settings")
    expect(viewer.locator("#settings-read-only")).to_be_visible(timeout=20_000)
    expect(viewer.get_by_role("heading", name="API keys")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Create key")).to_have_count(0)
    assert_accessible(viewer, "/organization/settings as a Viewer")
    context.close()
