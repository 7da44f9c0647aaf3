"""Edit forms show what was saved: immediately after Save and after a reload.

One test per form, each the same way: change a value, Save, see the field show it (as the
server stored it: where the server normalizes, typing a raw value and seeing the normalized
one proves the form shows the saved value, not what was typed); change it again, Save,
check again; reload the page and check the field still shows the last saved value.

Sections, one per sub-page; add a form's test under its sub-page's section:
- Settings (`/organization/settings`): organization details, business details, settings
- Support (`/organization/support`): ticket prefix, department rename
"""

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import create_organization, open_settings, register, unique_email


def new_organization(page: Page, name: str) -> None:
    """A new user with a new organization (they are its Owner), on its Overview."""
    register(page, unique_email("forms"))
    create_organization(page, name)


def sidebar(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Organization")


# --- Settings sub-page ---------------------------------------------------------------------


def test_organization_details_show_what_was_saved(page: Page):
    new_organization(page, "Details Co")
    open_settings(page)
    form = page.get_by_role("form", name="Organization details")
    name, description = form.get_by_label("Organization Name"), form.get_by_label("Description")
    expect(name).to_have_value("Details Co")

    name.fill("  Details Co One  ")  # the server trims: the form shows the stored value
    description.fill("  The first description  ")
    form.get_by_role("button", name="Save").click()
    expect(name).to_have_value("Details Co One")
    expect(description).to_have_value("The first description")
    expect(sidebar(page)).to_contain_text("Details Co One")

    name.fill("  Details Co Two  ")
    description.fill("  The second description  ")
    form.get_by_role("button", name="Save").click()
    expect(name).to_have_value("Details Co Two")
    expect(description).to_have_value("The second description")
    expect(sidebar(page)).to_contain_text("Details Co Two")

    page.reload()
    expect(name).to_have_value("Details Co Two", timeout=20_000)
    expect(description).to_have_value("The second description")


def test_business_details_show_what_was_saved(page: Page):
    new_organization(page, "Business Co")
    open_settings(page)
    card = page.get_by_role("form", name="Business details")
    # "Add business details" while nothing is saved, then "Edit"
    edit = page.get_by_role("button", name=re.compile(r"^(Add|Edit) business details$"))

    def save(city: str, email: str) -> None:
        edit.click()
        card.get_by_label("City").fill(city)
        card.get_by_label("Email").fill(email)
        card.get_by_role("button", name="Save").click()

    def shows(city: str, email: str) -> None:
        """The read-only card, then the re-opened form, show the saved values."""
        expect(card).to_have_count(0)
        expect(page.get_by_text(city, exact=True)).to_be_visible()
        expect(page.get_by_text(email, exact=True)).to_be_visible()
        edit.click()
        expect(card.get_by_label("City")).to_have_value(city)
        expect(card.get_by_label("Email")).to_have_value(email)
        card.get_by_role("button", name="Cancel").click()

    save("Paris", "Sales@Business.Example")  # the server lower-cases the email
    shows("Paris", "sales@business.example")
    save("Lyon", "Orders@Business.Example")
    shows("Lyon", "orders@business.example")
    expect(page.get_by_text("Paris", exact=True)).to_have_count(0)

    page.reload()
    expect(page.get_by_text("Lyon", exact=True)).to_be_visible(timeout=20_000)
    shows("Lyon", "orders@business.example")


def test_settings_show_what_was_saved(page: Page):
    new_organization(page, "Settings Co")
    open_settings(page)
    form = page.get_by_role("form", name="Organization settings")
    invite = form.get_by_role("checkbox", name="Allow members to invite")
    window = form.get_by_label("Default attribution window (hours)")
    expect(invite).not_to_be_checked()
    expect(window).to_have_value("168")

    invite.check()
    window.fill("048")  # stored as 48: the form shows the stored value
    form.get_by_role("button", name="Save Settings").click()
    expect(window).to_have_value("48")
    expect(invite).to_be_checked()

    invite.uncheck()
    window.fill("072")
    form.get_by_role("button", name="Save Settings").click()
    expect(window).to_have_value("72")
    expect(invite).not_to_be_checked()

    page.reload()
    expect(window).to_have_value("72", timeout=20_000)
    expect(invite).not_to_be_checked()
    sidebar(page).get_by_role("link", name="Audit Log").click()
    expect(page.get_by_text("allow_members_to_invite=True").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("allow_members_to_invite=False").first).to_be_visible()


# --- Support sub-page ----------------------------------------------------------------------


def open_support_page(page: Page) -> None:
    sidebar(page).get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Authorized Domains")).to_be_visible(timeout=20_000)


def subscribe_to_support(page: Page) -> None:
    """Prefix and departments need the Support Subscription: subscribe from the Support
    page's locked card through the test-mode checkout, then come back to the Support page."""
    open_support_page(page)
    page.get_by_label("Ticket Prefix is locked").get_by_role(
        "button", name="Subscribe to unlock"
    ).click()
    expect(page.get_by_role("heading", name="Test checkout — no card is charged")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_text("Subscription active.")).to_be_visible(timeout=20_000)
    open_support_page(page)
    expect(page.get_by_role("button", name="Save Prefix")).to_be_visible()


def test_ticket_prefix_shows_what_was_saved(page: Page):
    new_organization(page, "Prefix Co")
    subscribe_to_support(page)
    form = page.get_by_role("form", name="Ticket prefix")
    prefix = form.get_by_label("Ticket Prefix", exact=True)
    expect(prefix).to_have_value("TKT")

    prefix.fill("acme")  # stored upper case: the field shows the stored value
    form.get_by_role("button", name="Save Prefix").click()
    expect(prefix).to_have_value("ACME")
    expect(page.locator("#prefix-example")).to_have_text("ACME-001")

    prefix.fill("desk2")
    form.get_by_role("button", name="Save Prefix").click()
    expect(prefix).to_have_value("DESK2")
    expect(page.locator("#prefix-example")).to_have_text("DESK2-001")

    page.reload()
    expect(prefix).to_have_value("DESK2", timeout=20_000)
    sidebar(page).get_by_role("link", name="Audit Log").click()  # saved twice, not undone
    expect(page.get_by_text("Ticket prefix changed from TKT to ACME")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Ticket prefix changed from ACME to DESK2")).to_be_visible()
    expect(page.get_by_text("Ticket prefix changed from DESK2")).to_have_count(0)


def test_department_rename_shows_what_was_saved(page: Page):
    new_organization(page, "Rename Co")
    subscribe_to_support(page)
    for name in ("Alpha", "Beta"):
        page.get_by_label("New department").fill(name)
        page.get_by_role("button", name="Add Department").click()
        expect(page.get_by_label(f"Department {name}", exact=True)).to_be_visible()

    def rename(old: str, new: str) -> None:
        row = page.get_by_label(f"Department {old}", exact=True)
        row.get_by_label(f"Name of {old}").fill(new)
        row.get_by_role("button", name="Rename").click()

    def shows(name: str) -> None:
        row = page.get_by_label(f"Department {name}", exact=True)
        expect(row.get_by_label(f"Name of {name}")).to_have_value(name)

    # Alpha → Zeta moves it below Beta: each row's field must show its own saved name.
    rename("Alpha", "  Zeta  ")  # stored trimmed: the field shows the stored name
    shows("Zeta")
    shows("Beta")
    expect(page.get_by_label("Department Alpha", exact=True)).to_have_count(0)

    rename("Zeta", "Omega")
    shows("Omega")
    shows("Beta")
    expect(page.get_by_label("Department Zeta", exact=True)).to_have_count(0)

    page.reload()
    expect(page.get_by_label("Department Omega", exact=True)).to_be_visible(timeout=20_000)
    shows("Omega")
    shows("Beta")
    expect(page.get_by_label("Department Zeta", exact=True)).to_have_count(0)
