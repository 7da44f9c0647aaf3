"""axe-core on every page and state a user reaches: no serious or critical violation.

Signed out (sign in, register, an invitation), a new user (create form), a Free
organization's sub-pages, a subscribed organization's billing page, links, files, tickets,
account and the audit log.
"""

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    create_organization,
    invite,
    link_in,
    register,
    unique_email,
    wait_for_mail,
)

AXE = Axe()
BLOCKING = ("serious", "critical")


def assert_accessible(page: Page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    results = AXE.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in blocking
    ]
    assert report == [], f"{what}: " + "\n".join(report)


def test_signed_out_pages(page: Page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "/login")
    page.goto("/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    assert_accessible(page, "/register")


def test_every_page_of_a_free_and_a_subscribed_organization(page: Page):
    register(page, unique_email("a11y"))
    assert_accessible(page, "create form")
    create_organization(page, "Accessible Org")
    pages = [
        ("/organization", "Accessible Org"),
        ("/organization/members", "Members"),
        ("/organization/billing", "Billing"),
        ("/organization/support", "Support"),
        ("/organization/settings", "Settings"),
        ("/organization/audit", "Audit Log"),
        ("/links", "Links"),
        ("/files", "My Files"),
        ("/tickets", "Tickets"),
        ("/account", "Account"),
    ]
    for path, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
        assert_accessible(page, path)

    page.goto("/organization/billing")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#plan-name")).to_have_text("Starter", timeout=20_000)
    assert_accessible(page, "subscribed billing")
    page.goto("/organization")
    expect(page.get_by_role("heading", name="Accessible Org")).to_be_visible(timeout=20_000)
    assert_accessible(page, "subscribed overview")


def test_the_invitation_page(page: Page, browser: Browser, base_url: str, mail_dir: Path):
    register(page, unique_email("a11y-owner"))
    create_organization(page, "Inviting Org")
    page.goto("/organization/members")
    invitee = unique_email("a11y-invitee")
    invite(page, invitee)
    stranger = browser.new_context(base_url=base_url).new_page()
    stranger.goto(link_in(wait_for_mail(mail_dir, invitee, "invited you to join")))
    expect(stranger.get_by_role("button", name="Create account and join")).to_be_visible()
    assert_accessible(stranger, "invitation, new user")
    stranger.context.close()
