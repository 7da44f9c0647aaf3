"""Every destructive action asks first, in one dialog: it says what will be lost, names the
action on its confirm button, and Cancel or Escape change nothing (checked after a reload,
so nothing was done on the server either)."""

import re
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import (
    confirm_email,
    create_organization,
    open_billing,
    open_support,
    register,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_api_keys import create_key_in_ui
from tests.e2e.test_billing import pay_test_checkout
from tests.e2e.test_support_desk import authorize, intake_url, post_ticket, subscribe_to_support


def open_dialog(page: Page, trigger: Locator) -> Locator:
    """Click `trigger` until its confirmation opens (a list re-render can swallow a click)."""
    dialog = page.get_by_role("alertdialog")
    for _ in range(3):
        trigger.click()
        try:
            expect(dialog).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    return dialog


def check_dialog(dialog: Locator, title: str, says: str, confirm: str) -> None:
    """Named by its title, described by what will be lost, the action named on its button."""
    expect(dialog).to_have_accessible_name(title)
    expect(dialog).to_have_accessible_description(re.compile(re.escape(says)))
    expect(dialog.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name=confirm, exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)


def cancel(page: Page, dialog: Locator, *, escape: bool = False) -> None:
    if escape:
        page.keyboard.press("Escape")
    else:
        dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_have_count(0)


def confirm(dialog: Locator, label: str) -> None:
    dialog.get_by_role("button", name=label, exact=True).click()
    expect(dialog).to_have_count(0)


def test_delete_link_asks_first_and_cancel_or_escape_keep_it(page: Page):
    register(page, unique_email("c-link"))
    page.goto("/links")
    page.get_by_label("Target URL").fill("https://example.com/keep")
    slug = unique_email("keep").split("@")[0]
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_role("button", name="Create Link").click()
    row = page.get_by_label(f"Link {slug}", exact=True)
    expect(row).to_be_visible()
    delete = row.get_by_role("button", name="Delete")

    dialog = open_dialog(page, delete)
    check_dialog(dialog, "Delete link", "stops working at once", "Delete link")
    assert_accessible(page, "the Delete link confirmation")
    cancel(page, dialog)
    expect(row).to_be_visible()

    dialog = open_dialog(page, delete)
    cancel(page, dialog, escape=True)
    page.reload()
    expect(row).to_be_visible(timeout=20_000)

    confirm(open_dialog(page, delete), "Delete link")
    expect(page.get_by_text("No links yet.")).to_be_visible()


def test_delete_file_asks_first_and_cancel_keeps_it(page: Page, tmp_path: Path):
    register(page, unique_email("c-file"))
    page.goto("/files")
    notes = tmp_path / "keep-me.txt"
    notes.write_text("hello")
    page.get_by_label("Choose files to upload").set_input_files(str(notes))
    row = page.get_by_label("File keep-me.txt")
    expect(row).to_be_visible(timeout=20_000)  # uploaded, stored, listed
    delete = row.get_by_role("button", name="Delete")

    dialog = open_dialog(page, delete)
    check_dialog(dialog, "Delete file", "keep-me.txt is deleted for good", "Delete file")
    cancel(page, dialog)
    page.reload()
    expect(row).to_be_visible(timeout=20_000)

    confirm(open_dialog(page, delete), "Delete file")
    expect(page.get_by_text("No files yet.")).to_be_visible()


def test_delete_department_and_remove_domain_ask_first(page: Page):
    register(page, unique_email("c-desk"))
    create_organization(page, "Careful Desk Co")
    open_support(page)
    authorize(page, "shop.example.com")
    domain = page.get_by_label("Domain shop.example.com", exact=True)
    expect(domain).to_be_visible()
    url = intake_url(page)
    subscribe_to_support(page)
    page.get_by_label("New department").fill("Sales")
    page.get_by_role("button", name="Add Department").click()
    sales = page.get_by_label("Department Sales", exact=True)
    expect(sales).to_be_visible()

    delete = page.get_by_role("button", name="Delete department Sales", exact=True)
    dialog = open_dialog(page, delete)
    check_dialog(dialog, "Delete department", "Its tickets stay, unassigned", "Delete department")
    cancel(page, dialog, escape=True)
    remove = domain.get_by_role("button", name="Remove domain shop.example.com")
    dialog = open_dialog(page, remove)
    check_dialog(
        dialog, "Remove authorized domain", "can no longer submit tickets", "Remove domain"
    )
    cancel(page, dialog)
    page.reload()
    expect(sales).to_be_visible(timeout=20_000)
    expect(domain).to_be_visible()
    assert post_ticket(url, "Still authorized").status_code == 201

    confirm(open_dialog(page, delete), "Delete department")
    expect(sales).to_have_count(0)
    confirm(open_dialog(page, remove), "Remove domain")
    expect(domain).to_have_count(0)
    assert post_ticket(url, "No longer authorized").status_code == 403


def test_revoke_api_key_asks_first_and_escape_keeps_it_working(
    page: Page, base_url: str, mail_dir
):
    address = unique_email("c-key")
    register(page, address)
    confirm_email(page, mail_dir, address)
    key = create_key_in_ui(page, "Build server")
    headers = {"Authorization": f"Bearer {key}"}
    revoke = page.get_by_label("API key Build server").get_by_role("button", name="Revoke")

    dialog = open_dialog(page, revoke)
    check_dialog(dialog, "Revoke API key", "are refused from now on", "Revoke key")
    cancel(page, dialog, escape=True)
    page.reload()
    expect(page.get_by_label("API key Build server")).to_be_visible(timeout=20_000)
    assert httpx.get(f"{base_url}/api/organizations", headers=headers).status_code == 200

    confirm(open_dialog(page, revoke), "Revoke key")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert httpx.get(f"{base_url}/api/organizations", headers=headers).status_code == 401


def test_seat_update_shows_the_new_monthly_charge_before_it_changes_the_bill(page: Page):
    register(page, unique_email("c-seats"))
    create_organization(page, "Careful Seats Co")
    open_billing(page)
    page.get_by_role("button", name="Subscribe to Support").click()
    pay_test_checkout(page)
    expect(page.locator("#seats-purchased")).to_have_text("1")
    page.get_by_role("button", name="More seats").click()
    page.get_by_role("button", name="More seats").click()
    expect(page.locator("#seats-pending")).to_have_text("3")
    update = page.get_by_role("button", name="Update", exact=True)

    dialog = open_dialog(page, update)
    says = (
        "Your support subscription changes from 1 to 3 seats: "
        "£17.97 a month from now on (prorated)."
    )
    check_dialog(dialog, "Change support seats", says, "Update seats")
    expect(dialog.locator("#seat-change")).to_have_text(says)
    cancel(page, dialog)
    expect(page.locator("#seats-purchased")).to_have_text("1")
    page.reload()
    expect(page.locator("#seats-purchased")).to_have_text("1", timeout=20_000)
    expect(page.locator("#monthly-cost")).to_have_text("£5.99")

    page.get_by_role("button", name="More seats").click()
    expect(page.locator("#seats-pending")).to_have_text("2")
    dialog = open_dialog(page, update)
    expect(dialog).to_contain_text("from 1 to 2 seats: £11.98 a month")
    confirm(dialog, "Update seats")
    expect(page.get_by_text("Seats updated to 2.")).to_be_visible()
    expect(page.locator("#seats-purchased")).to_have_text("2")
    expect(page.locator("#monthly-cost")).to_have_text("£11.98")
