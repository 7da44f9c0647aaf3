"""Keyboard-only flows: a person who never touches the mouse (Tab to move, type, Enter to
submit) can do what everyone else does."""

from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.helpers import (
    PASSWORD,
    create_organization,
    invite,
    link_in,
    open_members,
    register,
    unique_email,
    wait_for_mail,
)


def tab_to(page: Page, target: Locator, most: int = 10) -> None:
    """Press Tab until `target` has the focus (at most `most` times)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_an_invitee_accepts_with_the_keyboard_only(
    page: Page, browser: Browser, base_url: str, mail_dir: Path
):
    register(page, unique_email("kb-owner"))
    create_organization(page, "Keyboard Co")
    open_members(page)
    invitee = unique_email("kb-invitee")
    invite(page, invitee, "Agent")

    context = browser.new_context(base_url=base_url)
    try:
        keyboard_user = context.new_page()
        keyboard_user.goto(link_in(wait_for_mail(mail_dir, invitee, "invited you to join")))
        expect(keyboard_user.get_by_role("heading", name="Join Keyboard Co")).to_be_visible()
        first, last = (
            keyboard_user.get_by_label("First name"),
            keyboard_user.get_by_label("Last name"),
        )
        password = keyboard_user.get_by_label("Password")

        tab_to(keyboard_user, first)  # the invite's email is fixed: Tab passes over it
        keyboard_user.keyboard.type("Key")
        keyboard_user.keyboard.press("Tab")
        expect(last).to_be_focused()
        keyboard_user.keyboard.type("Board")
        keyboard_user.keyboard.press("Tab")
        expect(password).to_be_focused()
        keyboard_user.keyboard.type(PASSWORD)
        expect(first).to_have_value("Key")
        expect(last).to_have_value("Board")
        keyboard_user.keyboard.press("Enter")

        expect(keyboard_user.get_by_role("heading", name="Keyboard Co")).to_be_visible(
            timeout=20_000
        )
        expect(keyboard_user.locator("#role-badge")).to_have_text("Agent")
        page.reload()
        expect(page.get_by_label(f"Member {invitee}")).to_contain_text("Key Board")
    finally:
        context.close()


def test_the_support_seat_stepper_works_with_the_keyboard_only(page: Page):
    register(page, unique_email("kb-seats"))
    create_organization(page, "Keyboard Seats Co")
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Billing").click()
    page.get_by_role("button", name="Subscribe to Support").click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#seats-purchased")).to_have_text("1", timeout=20_000)
    more, update = (
        page.get_by_role("button", name="More seats"),
        page.get_by_role("button", name="Update"),
    )

    tab_to(page, more, most=40)
    page.keyboard.press("Enter")
    expect(page.locator("#seats-pending")).to_have_text("2")
    expect(more).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#seats-pending")).to_have_text("3")
    page.keyboard.press("Tab")
    expect(update).to_be_focused()
    page.keyboard.press("Enter")  # opens the confirmation, its focus on Cancel
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("from 1 to 3 seats")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Update seats")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Seats updated to 3.")).to_be_visible()
    expect(page.locator("#seats-purchased")).to_have_text("3")
