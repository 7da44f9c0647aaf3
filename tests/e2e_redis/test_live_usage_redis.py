"""Live usage bars with two backend workers and Redis: any worker, any process."""

import subprocess
import sys
import textwrap

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT
from tests.e2e.helpers import create_organization, invite, join_as_new_user, register, unique_email


def test_member_link_moves_the_owners_bar_across_workers(
    page: Page, browser: Browser, base_url: str, mail_dir
):
    register(page, unique_email("owner"))
    create_organization(page, "Redis Co")
    expect(page.locator("#usage-links-label")).to_have_text("0 / 50")
    agent = unique_email("agent")
    invite(page, agent, "Agent")

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

    script = textwrap.dedent(
        f"""
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
    )
    env = {**app_env, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    expect(page.locator("#usage-links-label")).to_have_text("1 / 50", timeout=5_000)
