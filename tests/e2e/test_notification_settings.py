"""Notification settings (SPEC §17) as a person meets them: the Account page's Notifications
section, one kind turned off and still off after a reload, and a notification mail (HTML
and text, with the organization's name) whose link leads back to those settings."""

from email.message import Message
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.helpers import invite, open_account_section, unique_email, wait_for_mail
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_invitations import join, other_page, owner_with_org  # noqa: F401

KINDS = ["New tickets", "Customer replies", "New members", "Usage limits", "Failed payments"]


def parts(message: Message) -> dict[str, str]:
    """The decoded bodies of a multipart mail, by content type."""
    assert message.get_content_type() == "multipart/alternative"
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.get_payload()
    }


def test_turn_a_kind_off_it_stays_off_and_the_mails_link_back(
    page: Page, other_page: Page, mail_dir  # noqa: F811
):
    owner = owner_with_org(page, "Notify & Co")
    open_account_section(page, "Notifications")
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Notification settings")
    for label in KINDS:  # every kind is on until its user turns it off
        expect(form.get_by_role("checkbox", name=label)).to_be_checked()
    assert_accessible(page, "/account/notifications")

    form.get_by_role("checkbox", name="New tickets").uncheck()
    form.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_text("Notification settings saved.").first).to_be_visible(timeout=20_000)

    page.reload()
    form = page.get_by_role("form", name="Notification settings")
    expect(form.get_by_role("checkbox", name="New tickets")).not_to_be_checked(timeout=20_000)
    for label in KINDS[1:]:
        expect(form.get_by_role("checkbox", name=label)).to_be_checked()

    # "New members" is still on: someone joining is announced to the owner
    page.goto("/organization/members")
    address = unique_email("joiner")
    invite(page, address)
    join(other_page, mail_dir, address)
    mail = wait_for_mail(mail_dir, owner, "joined Notify & Co")
    bodies = parts(mail)
    assert "Notify &amp; Co" in bodies["text/html"] and "Notify & Co" in bodies["text/plain"]
    settings_link = next(
        word for word in bodies["text/plain"].split() if word.endswith("/account/notifications")
    )

    page.goto(urlsplit(settings_link).path)
    form = page.get_by_role("form", name="Notification settings")
    expect(form.get_by_role("checkbox", name="New tickets")).not_to_be_checked(timeout=20_000)
    expect(form.get_by_role("checkbox", name="New members")).to_be_checked()
