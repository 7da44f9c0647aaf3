"""Live usage bars with two backend workers and Redis: any worker, any process."""

import subprocess
import sys
import textwrap

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT
from tests.e2e.helpers import (
    create_organization,
    invite,
    join_as_new_user,
    open_members,
    register,
    unique_email,
)


def test_member_link_moves_the_owners_bar_across_workers(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    register(page, unique_email("owner"))
    create_organization(page, "Redis Co")
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")
    agent = unique_email("agent")
    open_members(page)
    invite(page, agent, "Agent")
    page.goto("/organization")
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")

    context = browser.new_context(base_url=base_url)
    member = context.new_page()
    join_as_new_user(member, mail_dir, agent)
    member.goto("/links")
    member.get_by_label("Target URL").fill("https://example.com/redis")
    member.get_by_role("button", name="Create Link").click()
    expect(member.get_by_text("Links (1)")).to_be_visible()
    expect(page.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)
    context.close()


def test_a_change_made_by_another_process_reaches_the_open_page(
    page: Page, app_env: dict[str, str]
):
    owner = unique_email("owner")
    register(page, owner)
    create_organization(page, "Process Co")
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")

    script = f"""
        from sqlmodel import select
        from orgportal.db import unit_of_work
        from orgportal.models import Membership, User
        from orgportal.services import links

        with unit_of_work() as session:
            user = session.exec(select(User).where(User.email == {owner!r})).one()
            org_id = session.exec(
                select(Membership.organization_id).where(Membership.user_id == user.id)
            ).one()
            links.create_link(
                session, user=user, organization_id=org_id, target_url="https://example.com/x"
            )
        """
    run_in_another_process(app_env, script)
    expect(page.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)


def test_a_ticket_stored_by_another_process_appears_on_the_open_ticket_list(
    page: Page, app_env: dict[str, str]
):
    owner = unique_email("desk")
    register(page, owner)
    create_organization(page, "Desk Co")
    page.goto("/tickets")
    expect(page.locator("#ticket-total")).to_have_text("0 tickets")

    run_in_another_process(
        app_env,
        f"""
        from sqlmodel import select
        from orgportal.db import unit_of_work
        from orgportal.models import Membership, Organization, User
        from orgportal.services import tickets

        with unit_of_work() as session:
            user = session.exec(select(User).where(User.email == {owner!r})).one()
            org = session.exec(
                select(Organization).join(Membership).where(Membership.user_id == user.id)
            ).one()
            tickets.submit_public_ticket(session, organization=org, data={{
                "name": "Pat", "email": "pat@example.com",
                "subject": "From elsewhere", "message": "Hello from another process",
            }})
        """,
    )
    expect(page.locator("#ticket-total")).to_have_text("1 ticket", timeout=5_000)
    expect(page.get_by_text("From elsewhere")).to_be_visible()


def run_in_another_process(app_env: dict[str, str], script: str) -> None:
    """Run service code in a separate Python process on the app's database and Redis."""
    env = {**app_env, "PATH": "/usr/bin:/bin"}
    code = textwrap.dedent(script)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
