"""What a person does, as reusable steps: register, sign in, read the mail the app wrote."""

import email
import time
import uuid
from email.message import Message
from pathlib import Path

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def wait_for_hydration(page: Page) -> None:
    """Wait until React has taken over the prerendered form (React keeps its props on each
    DOM node). A click before that would submit the bare HTML form instead of the app's
    handler: on a busy machine the first page of a test can take a few seconds."""
    page.wait_for_function(
        "() => { const f = document.querySelector('form');"
        " return !!f && Object.keys(f).some(k => k.startsWith('__reactProps')); }",
        timeout=30_000,
    )


def register(page: Page, email_address: str, first: str = "Ada", last: str = "Lovelace") -> None:
    """Create an account, then sign in: registering never signs in by itself, because for an
    address that already has an account it cannot (the page answers both the same way)."""
    page.goto("/register")
    wait_for_hydration(page)
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(email_address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)
    expect(page.locator("#register-sent-to")).to_have_text(email_address.lower())
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, email_address)
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=20_000)


def sign_in(page: Page, email_address: str, password: str = PASSWORD) -> None:
    wait_for_hydration(page)
    page.get_by_label("Email").fill(email_address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def create_organization(page: Page, name: str) -> None:
    page.get_by_label("Organization Name").fill(name)
    page.get_by_role("button", name="Create Organization").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=20_000)


def mails(mail_dir: Path, to: str, subject_part: str) -> list[Message]:
    """Every .eml the app wrote to `to` with that subject, oldest first."""
    found = []
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to and subject_part in message["Subject"]:
            found.append(message)
    return found


def wait_for_mail(
    mail_dir: Path, to: str, subject_part: str, count: int = 1, timeout: float = 20
) -> Message:
    """The `count`-th such mail, waiting for the outbox worker to write it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mails(mail_dir, to, subject_part)
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.25)
    raise AssertionError(f"no mail #{count} to {to} about {subject_part!r} in {mail_dir}")


def invite(page: Page, address: str, role: str = "Agent", *, sent: bool = True) -> None:
    """Fill and send the Invite Members form; when `sent`, wait until the invite is listed
    (the form is re-created after a success, so typing on before that would be lost)."""
    page.get_by_label("Member's email").fill(address)
    page.get_by_label("Role", exact=True).select_option(role)
    # the toasts of the invites before may cover the button (and stay while hovered)
    wait_for_toasts_to_close(page)
    page.get_by_role("button", name="Send Invite").click()
    if sent:
        expect(page.get_by_label(f"Invite {address}")).to_be_visible()


def link_in(message: Message) -> str:
    body = message.get_payload(decode=True).decode()
    return next(word for word in body.split() if word.startswith("http"))


def confirm_email(page: Page, mail_dir: Path, address: str) -> None:
    """Open the confirmation mail's link in this (signed-in) browser, as its owner does;
    the page then goes on where it was."""
    back = page.url
    page.goto(link_in(wait_for_mail(mail_dir, address, "Confirm your")))
    expect(page.get_by_text(f"Thank you: {address.lower()} is confirmed.")).to_be_visible(
        timeout=20_000
    )
    page.goto(back)


def join_as_new_user(page: Page, mail_dir: Path, address: str, first: str = "New") -> None:
    """Open the invitation mail sent to `address` and accept it with a new account."""
    page.goto(link_in(wait_for_mail(mail_dir, address, "invited you to join")))
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill("Member")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    expect(page.locator("#role-badge")).to_be_visible(timeout=20_000)


def confirm_in_dialog(page: Page, trigger, confirm_label: str = "Confirm") -> None:
    """Open a confirmation dialog with `trigger` and press its confirm button, named after the
    action ("Delete link", "Revoke key"…). If a re-render of the list swallowed the first
    click (the dialog never opened), click the trigger again."""
    confirm = page.get_by_role("alertdialog").get_by_role("button", name=confirm_label, exact=True)
    for _ in range(3):
        trigger.click()
        try:
            expect(confirm).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    confirm.click()


def open_members(page: Page) -> None:
    """Go to the Members sub-page by the organization's sidebar, as a person does."""
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", exact=True).first).to_be_visible(
        timeout=20_000
    )


def open_settings(page: Page) -> None:
    """Go to the Settings sub-page by the organization's sidebar, as a person does."""
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Business Details")).to_be_visible(timeout=20_000)


def open_billing(page: Page) -> None:
    """Go to the Billing sub-page by the organization's sidebar, as a person does."""
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Organization Plan")).to_be_visible(timeout=20_000)


def open_support(page: Page) -> None:
    """Go to the Support sub-page by the organization's sidebar, as a person does."""
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Support", exact=True)).to_be_visible(timeout=20_000)


def wait_for_toasts_to_close(page: Page) -> None:
    """Toasts (bottom right) cover the right-hand column of a table for a few seconds, and
    stay open while the mouse is over them: move it away and wait, as a person would."""
    page.mouse.move(0, 0)
    toasts = page.get_by_role("region", name="Notifications alt+T").get_by_role("listitem")
    expect(toasts).to_have_count(0, timeout=15_000)


# Every signed-in page but the overview (whose heading is the organization's name), with a
# heading it shows: the accessibility and phone-layout tests visit each one.
SIGNED_IN_PAGES = [
    ("/organization/members", "Members"),
    ("/organization/billing", "Billing"),
    ("/organization/support", "Support"),
    ("/organization/domains", "Domains"),
    ("/organization/webhooks", "Webhooks"),
    ("/organization/settings", "Settings"),
    ("/organization/audit", "Audit Log"),
    ("/links", "Links"),
    ("/projects", "Projects"),
    ("/approvals", "Approval"),
    ("/analytics", "Analytics"),
    ("/files", "My Files"),
    ("/tickets", "Tickets"),
    ("/account", "Account"),
    ("/account/security", "Two-factor sign-in"),  # the Account page's sections
    ("/account/sessions", "Sessions"),
    ("/account/plan", "Plan"),
    ("/account/notifications", "Notifications"),
    ("/security/two-factor", "Set up two-factor sign-in to continue"),
    ("/security/blocked", "Your address is not allowed"),
]


def open_account_section(page: Page, name: str) -> None:
    """Go to a section of the Account page (Profile, Sign-in & security, Sessions,
    Plan) by the top bar's Account and the page's section nav, as a person does."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    sections = page.get_by_role("navigation", name="Account")
    expect(sections).to_be_visible(timeout=20_000)
    sections.get_by_role("link", name=name, exact=True).click()
    expect(sections.get_by_role("link", name=name, exact=True)).to_have_attribute(
        "aria-current", "page", timeout=20_000
    )
    wait_for_hydration(page)
