"""API keys as a person uses them: made on /account, used from a script, revoked."""

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    confirm_email,
    confirm_in_dialog,
    create_organization,
    open_account_section,
    register,
    unique_email,
)


def create_key_in_ui(page: Page, name: str, password: str = PASSWORD) -> str:
    """Create a key on Account's Sign-in & security (a confirmed account, its password asked
    again) and return the full key, read from the once-only display."""
    open_account_section(page, "Sign-in & security")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible(timeout=20_000)
    page.get_by_label("Key name").fill(name)
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Create API key").click()
    shown = page.locator("#new-api-key")
    expect(shown).to_contain_text("op_")
    expect(page.get_by_label(f"API key {name}")).to_be_visible()
    return shown.inner_text().strip()


def test_a_key_from_the_account_page_creates_a_link_and_the_open_bar_moves(
    page: Page, base_url: str, mail_dir
):
    address = unique_email("keys")
    register(page, address)
    create_organization(page, "Key Co")
    confirm_email(page, mail_dir, address)
    key = create_key_in_ui(page, "Deploy script")
    row = page.get_by_label("API key Deploy script")
    expect(row).to_contain_text("Key Co")  # the workspace active when it was made
    expect(row).to_contain_text("Never")
    expect(row).to_contain_text(key[:11])

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("API key copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    page.get_by_role("link", name="Organization", exact=True).click()
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50", timeout=20_000)
    api = httpx.Client(base_url=f"{base_url}/api", headers={"Authorization": f"Bearer {key}"})
    created = api.post("/links", json={"target_url": "https://example.com/from-a-script"})
    assert created.status_code == 201, created.text
    assert created.json()["organization_id"] is not None
    expect(page.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)  # no reload

    usage = api.get(f"/organizations/{created.json()['organization_id']}/usage").json()
    assert usage["usage"]["links"] == 1 and usage["tier"] == "free"
    assert api.delete(f"/links/{created.json()['id']}").status_code == 200
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50", timeout=5_000)


def test_a_key_is_shown_once_and_revoking_it_stops_it(page: Page, base_url: str, mail_dir):
    address = unique_email("revoke")
    register(page, address)
    confirm_email(page, mail_dir, address)
    key = create_key_in_ui(page, "Old laptop")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base_url}/api/organizations", headers=headers).status_code == 200

    page.reload()
    row = page.get_by_label("API key Old laptop")
    expect(row).to_contain_text("Personal Workspace")
    expect(page.locator("#new-api-key")).to_have_count(0)  # never shown again
    expect(page.get_by_text(key)).to_have_count(0)

    confirm_in_dialog(page, row.get_by_role("button", name="Revoke"), "Revoke key")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    refused = httpx.get(f"{base_url}/api/organizations", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This API key has been revoked."}

    page.get_by_label("Key name").fill("   ")  # passes the browser's `required`, not the server
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#name-error")).to_have_text("Key name is required.")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    # A key just created stays on show (to copy it) while another key is revoked.
    create_key_in_ui(page, "Spare")
    fresh = create_key_in_ui(page, "New laptop")
    confirm_in_dialog(
        page, page.get_by_label("API key Spare").get_by_role("button", name="Revoke"), "Revoke key"
    )
    expect(page.get_by_label("API key Spare")).to_have_count(0)
    expect(page.locator("#new-api-key")).to_have_text(fresh)
