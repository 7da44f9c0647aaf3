"""The Links table's click counts (all time, last 7 days) come from the
daily rollups, with the page's rows, in one query whatever the page's size."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session

from orgportal.models import ClickRollup, Link, Role
from orgportal.models.analytics import TOTAL
from orgportal.models.base import utcnow
from orgportal.services import links
from orgportal.services.errors import NotFound
from tests.factories import add_member, bulk_links, make_org, make_user


def rollup(session: Session, link: Link, days_ago: int, clicks: int, dimension: str = TOTAL):
    session.add(
        ClickRollup(
            link_id=link.id,
            organization_id=link.organization_id,
            owner_id=link.owner_id,
            day=utcnow().date() - timedelta(days=days_ago),
            dimension=dimension,
            value="" if dimension == TOTAL else "example.com",
            clicks=clicks,
            bots=50,  # bot visits are never clicks
        )
    )


@contextmanager
def statements(session: Session):
    """The SQL statements run on the session's connection meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_each_link_has_its_clicks_of_all_time_and_of_the_last_7_days(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    old, fresh = (
        links.create_link(session, user=owner, organization_id=org.id, target_url=url)
        for url in ("https://example.com/old", "https://example.com/fresh")
    )
    quiet = links.create_link(
        session, user=owner, organization_id=org.id, target_url="https://example.com/quiet"
    )
    rollup(session, old, 40, 100)
    rollup(session, old, 7, 10)  # the 8th day back: outside the last 7 days
    rollup(session, old, 6, 3)  # the 7th day back: inside
    rollup(session, fresh, 0, 5)
    rollup(session, fresh, 2, 4)
    rollup(session, fresh, 0, 99, dimension="referrer")  # a breakdown, not more clicks
    session.commit()

    listed, total = links.list_links_with_clicks(session, user=owner, organization_id=org.id)
    counts = {item.link.id: (item.clicks, item.clicks_7_days) for item in listed}
    assert total == 3
    assert counts == {old.id: (113, 3), fresh.id: (9, 9), quiet.id: (0, 0)}
    assert [item.link.id for item in listed] == [quiet.id, fresh.id, old.id]  # newest first


@pytest.mark.parametrize("count", [1, 25])
def test_the_page_and_its_counts_are_one_query_whatever_its_size(session: Session, count: int):
    owner = make_user(session)
    org = make_org(session, owner)
    bulk_links(session, owner=owner, organization_id=org.id, count=count + 5, prefix="c")
    for link in links.list_links(session, user=owner, organization_id=org.id, limit=100)[0]:
        rollup(session, link, 1, 2)
    session.commit()

    with statements(session) as seen:
        listed, total = links.list_links_with_clicks(
            session, user=owner, organization_id=org.id, limit=count
        )
    assert total == count + 5 and len(listed) == count
    assert all((item.clicks, item.clicks_7_days) == (2, 2) for item in listed)
    assert len([s for s in seen if "click_rollup" in s]) == 1  # rows and counts together
    assert len([s for s in seen if "FROM link" in s]) == 2  # the page, and the total count


def test_a_viewer_sees_the_counts_and_an_outsider_nothing(session: Session):
    owner, outsider = make_user(session), make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    link = links.create_link(
        session, user=owner, organization_id=org.id, target_url="https://example.com"
    )
    rollup(session, link, 0, 7)
    session.commit()
    listed, _ = links.list_links_with_clicks(session, user=viewer, organization_id=org.id)
    assert [(item.clicks, item.clicks_7_days) for item in listed] == [(7, 7)]
    with pytest.raises(NotFound):
        links.list_links_with_clicks(session, user=outsider, organization_id=org.id)


def test_the_project_filter_still_applies(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    links.create_link(session, user=owner, organization_id=org.id, target_url="https://a.io")
    listed, total = links.list_links_with_clicks(
        session, user=owner, organization_id=org.id, project_id=links.NO_PROJECT
    )
    assert total == 1 and listed[0].clicks == 0
