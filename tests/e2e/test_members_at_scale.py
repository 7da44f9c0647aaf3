"""A big organization's Members page: a page of members at a time, searched and sorted on the
server. The extra members are written straight into the app's database (as the seeding
script does), since inviting thirty people through the browser tests nothing new."""

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from orgportal.db import make_engine
from orgportal.models import Membership, Organization, Role, User
from tests.e2e.helpers import create_organization, open_members, register, unique_email


def add_members(database_url: str, organization_name: str, how_many: int) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        org = session.exec(select(Organization).where(Organization.name == organization_name)).one()
        for n in range(how_many):
            person = User(
                email=f"crowd-{n:02d}-{org.id}@example.com",
                password_hash="!",  # cannot sign in; only listed
                first_name="Crowd",
                last_name=f"Person {n:02d}",
            )
            session.add(person)
            session.flush()
            session.add(Membership(organization_id=org.id, user_id=person.id, role=Role.VIEWER))
        session.commit()
    engine.dispose()


def test_members_are_paged_searched_and_sorted(page: Page, app_env):
    register(page, unique_email("olive"), "Olive", "Owner")
    create_organization(page, "Crowd Co")
    add_members(app_env["DATABASE_URL"], "Crowd Co", 30)
    open_members(page)

    rows = page.get_by_role("row", name=re.compile(r"^Member "))
    expect(page.locator("#members-found")).to_have_text("31 members")
    expect(rows).to_have_count(25)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.get_by_role("button", name="Next page of members").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(rows).to_have_count(6)

    page.get_by_label("Search members").fill("person 07")
    expect(page.locator("#members-found")).to_have_text("1 found")
    expect(rows).to_have_count(1)
    expect(page.get_by_role("row", name="Member crowd-07", exact=False)).to_contain_text(
        "Crowd Person 07"
    )
    page.get_by_label("Search members").fill("nobody-like-this")
    expect(page.get_by_text("No member matches this search.")).to_be_visible()

    page.get_by_label("Search members").fill("")
    expect(page.locator("#members-found")).to_have_text("31 members")
    expect(rows.first).to_contain_text("Olive Owner")  # joined first
    page.get_by_label("Sort by").select_option("Email")
    expect(rows.first).to_contain_text("crowd-00-")  # "crowd-…" before "olive-…"
    page.get_by_role("button", name="Next page of members").click()
    expect(rows.last).to_contain_text("Olive Owner")
