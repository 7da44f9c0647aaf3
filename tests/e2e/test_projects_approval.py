"""Projects and link approval end to end (SPEC §14): a project with a link in it; an
Agent's link in an organization that requires approval waits until an Owner approves it in
another browser, the nav's badge counting it live."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    confirm_in_dialog,
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    open_settings,
    register,
    unique_email,
    wait_for_hydration,
    wait_for_mail,
    wait_for_toasts_to_close,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_phone_layout import PHONE, assert_fits


@pytest.fixture
def other_page(browser: Browser, base_url):
    """A second person in their own browser context."""
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def create_link(page: Page, target: str, slug: str, project: str | None = None) -> None:
    wait_for_hydration(page)
    page.get_by_label("Target URL").fill(target)
    page.get_by_label("Custom slug (optional)").fill(slug)
    if project is not None:
        page.get_by_label("Project", exact=True).select_option(label=project)
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_label(f"Link {slug}", exact=True)).to_be_visible(timeout=20_000)


def test_a_project_and_a_link_in_it(page: Page, base_url: str):
    register(page, unique_email("projects"))
    create_organization(page, "Projects Co")
    nav(page).get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("No projects yet.")).to_be_visible()
    wait_for_hydration(page)
    page.get_by_label("Project name", exact=True).fill("Spring campaign")
    page.get_by_label("Description (optional)").fill("Everything for the spring sale")
    page.get_by_role("button", name="Create Project").click()
    row = page.get_by_label("Project Spring campaign", exact=True)
    expect(row).to_be_visible(timeout=20_000)
    expect(row).to_contain_text("Everything for the spring sale")
    # the same name again is refused, next to the field
    page.get_by_label("Project name", exact=True).fill("spring CAMPAIGN")
    page.get_by_role("button", name="Create Project").click()
    expect(page.get_by_text("There is already a project called Spring campaign.")).to_be_visible()

    nav(page).get_by_role("link", name="Links").click()
    expect(page.get_by_role("heading", name="Links", exact=True)).to_be_visible(timeout=20_000)
    create_link(page, f"{base_url}/register", "spring-one", project="Spring campaign")
    create_link(page, f"{base_url}/register", "loose-one")
    expect(page.get_by_label("Project of link spring-one", exact=True)).to_have_value(
        re.compile(r"^\d+$")
    )
    expect(page.get_by_label("Project of link loose-one", exact=True)).to_have_value("")

    # the list filters by project
    page.get_by_label("Show links in").select_option(label="Spring campaign")
    expect(page.get_by_label("Link loose-one", exact=True)).to_have_count(0, timeout=20_000)
    expect(page.get_by_label("Link spring-one", exact=True)).to_be_visible()
    page.get_by_label("Show links in").select_option(label="No project")
    expect(page.get_by_label("Link spring-one", exact=True)).to_have_count(0, timeout=20_000)
    expect(page.get_by_label("Link loose-one", exact=True)).to_be_visible()

    # the project's page: its links and its analytics
    nav(page).get_by_role("link", name="Projects").click()
    row = page.get_by_label("Project Spring campaign", exact=True)
    expect(row.get_by_role("cell").nth(1)).to_have_text("1", timeout=20_000)
    row.get_by_role("link", name="Spring campaign", exact=True).click()
    expect(page.get_by_role("heading", name="Spring campaign")).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Link spring-one", exact=True)).to_be_visible()
    expect(page.get_by_label("Link loose-one", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Open this project's analytics")).to_have_attribute(
        "href", re.compile(r"/analytics\?project=\d+$")
    )
    assert_accessible(page, "a project's page")
    page.set_viewport_size(PHONE)
    assert_fits(page, "a project's page")
    page.goto("/projects")
    expect(page.get_by_label("Project Spring campaign", exact=True)).to_be_visible(timeout=20_000)
    assert_fits(page, "/projects")
    page.goto("/links")
    expect(page.get_by_label("Link loose-one", exact=True)).to_be_visible(timeout=20_000)
    assert_fits(page, "/links with projects")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/projects")
    page.get_by_label("Project Spring campaign", exact=True).get_by_role(
        "link", name="Spring campaign", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Spring campaign")).to_be_visible(timeout=20_000)

    # deleting the project keeps its link, in no project
    confirm_in_dialog(page, page.get_by_role("button", name="Delete Project"), "Delete project")
    expect(page.get_by_text("No projects yet.")).to_be_visible(timeout=20_000)
    nav(page).get_by_role("link", name="Links").click()
    expect(page.get_by_label("Link spring-one", exact=True)).to_be_visible(timeout=20_000)


def test_an_agents_link_waits_until_an_owner_approves_it(
    page: Page, other_page: Page, base_url: str, mail_dir
):
    register(page, unique_email("approver"))
    create_organization(page, "Approval Co")
    open_settings(page)
    form = page.get_by_role("form", name="Organization settings")
    form.get_by_role("checkbox", name="Require approval for links").check()
    form.get_by_role("button", name="Save Settings").click()
    expect(page.get_by_text("Settings saved").first).to_be_visible(timeout=20_000)
    open_members(page)
    agent = unique_email("agent")
    invite(page, agent, "Agent")
    join_as_new_user(other_page, mail_dir, agent)

    # the Owner watches the Links page: the nav has an Approval entry, nothing waits yet
    page.goto("/links")
    expect(page.get_by_role("heading", name="Links", exact=True)).to_be_visible(timeout=20_000)
    expect(nav(page).get_by_role("link", name="Approval")).to_be_visible()
    expect(page.locator("#approval-badge")).to_have_count(0)

    # the Agent creates two links: both wait for approval
    other_page.goto("/links")
    expect(nav(other_page).get_by_role("link", name="Approval")).to_have_count(0)
    create_link(other_page, f"{base_url}/register", "agent-wait")
    expect(other_page.get_by_text("It waits for approval").first).to_be_visible()
    expect(other_page.get_by_label("Link agent-wait", exact=True)).to_contain_text(
        "Pending Approval"
    )
    create_link(other_page, f"{base_url}/register", "agent-no")

    # the Owner's badge counts them without a reload
    expect(page.locator("#approval-badge")).to_have_text(re.compile(r"^2 waiting"), timeout=20_000)

    # following a pending link shows the plain page; API clients get 404
    other_page.goto("/l/agent-wait")
    expect(other_page.get_by_role("heading", name="This link is awaiting approval")).to_be_visible()
    pending = other_page.request.get("/l/agent-wait", max_redirects=0)
    assert pending.status == 404
    assert other_page.request.get("/agent-wait", max_redirects=0).status == 404

    # the Owner approves one and rejects the other in the queue
    nav(page).get_by_role("link", name=re.compile("^Approval")).click()
    expect(page.get_by_role("heading", name="Approval", exact=True)).to_be_visible(timeout=20_000)
    waiting = page.get_by_label("Pending link agent-wait", exact=True)
    expect(waiting).to_contain_text(agent)
    assert_accessible(page, "the approval queue")
    page.set_viewport_size(PHONE)
    assert_fits(page, "the approval queue")
    page.set_viewport_size({"width": 1280, "height": 720})
    waiting.get_by_role("button", name="Approve link agent-wait").click()
    expect(page.get_by_label("Pending link agent-wait", exact=True)).to_have_count(
        0, timeout=20_000
    )
    expect(page.locator("#approval-badge")).to_have_text(re.compile(r"^1 waiting"), timeout=20_000)
    wait_for_toasts_to_close(page)
    confirm_in_dialog(page, page.get_by_role("button", name="Reject link agent-no"), "Reject link")
    expect(page.get_by_text("No links are waiting for approval.")).to_be_visible(timeout=20_000)
    assert_accessible(page, "the empty approval queue")
    expect(page.locator("#approval-badge")).to_have_count(0)

    # the approved link redirects now; the rejected one is gone and its creator told
    approved = other_page.request.get("/l/agent-wait", max_redirects=0)
    assert approved.status == 302
    assert approved.headers["location"] == f"{base_url}/register"
    assert other_page.request.get("/l/agent-no", max_redirects=0).status == 404
    mail = wait_for_mail(mail_dir, agent, "was not approved")
    assert "/agent-no" in mail["Subject"]
    other_page.goto("/links")
    expect(other_page.get_by_label("Link agent-wait", exact=True)).not_to_contain_text(
        "Pending Approval", timeout=20_000
    )
    expect(other_page.get_by_label("Link agent-no", exact=True)).to_have_count(0)
