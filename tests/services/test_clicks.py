"""Click recording (SPEC §14): what a redirect stores, bots apart, no raw IP, rollups."""

import asyncio
import os
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from orgportal.models import Click, ClickRollup, Link, Role
from orgportal.models.analytics import TOTAL
from orgportal.services import clicks, links
from orgportal.services.errors import PermissionDenied, ValidationFailed
from tests.factories import add_member, make_org, make_user

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def make_link(session, user, org_id=None, **fields) -> Link:
    link = links.create_link(
        session, user=user, organization_id=org_id, target_url="https://example.com/page?a=1"
    )
    for name, value in fields.items():
        setattr(link, name, value)
    session.add(link)
    session.commit()
    return link


def hit(link: Link, ua: str = CHROME, **extra) -> clicks.Hit:
    return clicks.new_hit(
        link,
        user_agent=ua,
        referrer=extra.pop("referrer", "https://news.example.org/item?id=1"),
        country=extra.pop("country", "GB"),
        visitor=extra.pop("visitor", "v" * 22),
    )


def rollup(session, link: Link, dimension: str) -> dict[str, tuple[int, int]]:
    rows = session.exec(
        select(ClickRollup).where(
            ClickRollup.link_id == link.id, ClickRollup.dimension == dimension
        )
    ).all()
    return {r.value: (r.clicks, r.bots) for r in rows}


def test_a_click_stores_referrer_host_browser_os_device_country_and_visitor(session):
    owner = make_user(session)
    org = make_org(session, owner)
    link = make_link(session, owner, org.id)
    assert clicks.record(session, [hit(link)]) == 1
    session.commit()
    click = session.exec(select(Click)).one()
    assert (click.link_id, click.organization_id, click.owner_id) == (link.id, org.id, owner.id)
    assert click.referrer_host == "news.example.org"  # the host only, no path or query
    assert (click.browser, click.os, click.device) == ("Chrome", "Windows", "desktop")
    assert click.country == "GB"
    assert click.visitor_id == "v" * 22
    assert not click.is_bot
    assert len(click.token) >= 20 and click.token != str(click.id)
    # no column could hold an address
    assert not any("ip" in name.split("_") for name in Click.model_fields)


def test_device_classes_by_user_agent():
    assert clicks.describe(IPHONE).device == "mobile"
    assert clicks.describe(IPAD).device == "tablet"
    assert clicks.describe(CHROME).device == "desktop"
    android_tablet = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120.0"
    assert clicks.describe(android_tablet).device == "tablet"


def test_bots_are_kept_apart_and_not_counted_as_clicks(session):
    owner = make_user(session)
    org = make_org(session, owner)
    link = make_link(session, owner, org.id)
    counted = clicks.record(session, [hit(link), hit(link, GOOGLEBOT), hit(link, "")])
    session.commit()
    assert counted == 1
    assert rollup(session, link, TOTAL) == {"": (1, 2)}  # 1 click, 2 bot visits
    assert rollup(session, link, "browser") == {"Chrome": (1, 0)}  # bots in no dimension
    bots = session.exec(select(Click).where(Click.is_bot)).all()
    assert len(bots) == 2 and {b.device for b in bots} == {"bot"}


def test_rollups_add_up_across_batches(session):
    owner = make_user(session)
    link = make_link(session, owner)
    clicks.record(session, [hit(link), hit(link, IPHONE, referrer="")])
    session.commit()
    clicks.record(session, [hit(link, IPHONE, country="")])
    session.commit()
    assert rollup(session, link, TOTAL) == {"": (3, 0)}
    assert rollup(session, link, "device") == {"desktop": (1, 0), "mobile": (2, 0)}
    assert rollup(session, link, "referrer") == {"news.example.org": (2, 0), "": (1, 0)}
    assert rollup(session, link, "country") == {"GB": (2, 0), "": (1, 0)}


def test_country_only_from_the_configured_header_and_only_real_codes():
    headers = {"cf-ipcountry": "de", "x-country": "FR"}
    assert clicks.country_from(headers, "") == ""  # no header configured: no country
    assert clicks.country_from(headers, "CF-IPCountry") == "DE"
    assert clicks.country_from({"cf-ipcountry": "XX"}, "CF-IPCountry") == ""
    assert clicks.country_from({"cf-ipcountry": "T1"}, "CF-IPCountry") == ""


def test_referrer_host_only_for_web_addresses():
    assert clicks.referrer_host("https://Twitter.com/x/status/1") == "twitter.com"
    assert clicks.referrer_host("android-app://com.google.android.gm/") == ""
    assert clicks.referrer_host("") == ""


def test_visitor_id_cookie_kept_when_valid_else_new():
    assert clicks.visitor_id("a" * 22) == ("a" * 22, False)
    new, is_new = clicks.visitor_id("<script>")
    assert is_new and new != "<script>" and len(new) >= 16


def test_click_id_appended_keeping_the_targets_query(session):
    owner = make_user(session)
    link = make_link(session, owner, append_click_id=True)
    one = hit(link)
    assert clicks.target_for(link, one) == f"https://example.com/page?a=1&op_click={one.token}"
    link.target_url = "https://example.com/page#top"
    assert clicks.target_for(link, one) == f"https://example.com/page?op_click={one.token}#top"
    link.append_click_id = False
    assert clicks.target_for(link, one) == "https://example.com/page#top"


def test_a_link_can_be_created_appending_click_ids(session):
    """One use case for the Links page and `POST /api/links`: created with the click id on."""
    owner = make_user(session)
    org = make_org(session, owner)
    on = links.create_link(
        session,
        user=owner,
        organization_id=org.id,
        target_url="https://shop.example/p",
        append_click_id=True,
    )
    off = links.create_link(
        session, user=owner, organization_id=org.id, target_url="https://shop.example/q"
    )
    session.commit()
    assert (
        session.get(Link, on.id).append_click_id and not session.get(Link, off.id).append_click_id
    )


def test_a_refused_link_is_not_created_with_its_click_id(session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    with pytest.raises(PermissionDenied):  # a Viewer creates nothing (SPEC §3)
        links.create_link(
            session,
            user=viewer,
            organization_id=org.id,
            target_url="https://shop.example/p",
            append_click_id=True,
        )
    with pytest.raises(ValidationFailed):
        links.create_link(
            session, user=owner, organization_id=org.id, target_url="nope", append_click_id=True
        )
    session.rollback()
    assert session.exec(select(Link)).all() == []


def test_click_ids_are_random_tokens(session):
    owner = make_user(session)
    link = make_link(session, owner)
    tokens = {hit(link).token for _ in range(50)}
    assert len(tokens) == 50


def test_clicks_of_a_deleted_link_are_skipped(session):
    owner = make_user(session)
    link = make_link(session, owner)
    queued = hit(link)
    links.delete_link(session, user=owner, organization_id=None, link_id=link.id)
    session.commit()
    assert clicks.record(session, [queued]) == 0


def test_live_change_marked_for_the_organization(session):
    owner = make_user(session)
    org = make_org(session, owner)
    link = make_link(session, owner, org.id)
    clicks.record(session, [hit(link)])
    assert (clicks.TOPIC, org.id) in session.info["live_changes"]
    session.commit()


def test_redirect_records_through_the_http_route(engine, monkeypatch):
    """The redirect itself: 302 to the target with op_click, visitor cookie, click stored."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from orgportal import db
    from orgportal.api import content
    from orgportal.config import settings

    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "click_recording", "inline")
    monkeypatch.setattr(settings, "country_header", "CF-IPCountry")
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        owner = make_user(session)
        link = make_link(session, owner, append_click_id=True)
    app = FastAPI()
    app.include_router(content.router)
    client = TestClient(app, follow_redirects=False)
    answer = client.get(
        f"/l/{link.slug}",
        headers={"User-Agent": IPHONE, "Referer": "https://t.co/abc", "CF-IPCountry": "NL"},
    )
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("https://example.com/page?a=1&op_click=")
    assert "op_vid=" in answer.headers["set-cookie"]
    assert "HttpOnly" in answer.headers["set-cookie"]
    with Session(engine) as session:
        click = session.exec(select(Click)).one()
        assert answer.headers["location"].endswith(click.token)
        assert (click.referrer_host, click.country, click.device) == ("t.co", "NL", "mobile")
        assert click.clicked_at <= datetime.now(UTC)


def test_the_default_queued_recording_writes_in_batches(engine, monkeypatch):
    """CLICK_RECORDING=queued: the redirect only queues the click; the writer process
    stores it, and the worker announces the workspace's analytics as changed."""
    from sqlmodel import Session

    from orgportal import db
    from orgportal.api import click_recording
    from orgportal.config import settings

    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "click_recording", "queued")
    monkeypatch.setattr(settings, "click_flush_seconds", 3600)
    queue = click_recording.new_queue()
    monkeypatch.setattr(click_recording, "queue", lambda: queue)
    try:
        with Session(engine, expire_on_commit=False) as session:
            owner = make_user(session)
            link = make_link(session, owner)
            followed = click_recording.follow(session, link.slug, {"user-agent": CHROME})
            assert followed is not None and followed.new_visitor
            assert session.exec(select(Click)).all() == []  # not written by the redirect

        async def flushed_and_heard() -> set:
            """The flush, as the live bus of this process hears it (pages, caches)."""
            heard = asyncio.ensure_future(anext(db.bus().subscribe()))
            await asyncio.sleep(0)  # subscribed
            assert await asyncio.to_thread(queue.flush) == 1
            return await asyncio.wait_for(heard, 10)

        assert asyncio.run(flushed_and_heard()) == {(clicks.PERSONAL_TOPIC, owner.id)}
        assert queue.writer_pid() not in (None, os.getpid())
        with Session(engine) as session:
            assert session.exec(select(Click)).one().browser == "Chrome"
    finally:
        queue.stop()


def test_a_batch_sent_again_is_not_stored_twice(engine, monkeypatch):
    """A writer that died after its commit and before its answer gets its batch again:
    the clicks already stored are skipped, the rollups not counted twice."""
    from sqlmodel import Session

    from orgportal import db

    monkeypatch.setattr(db, "engine", lambda: engine)
    with Session(engine, expire_on_commit=False) as session:
        owner = make_user(session)
        org = make_org(session, owner)
        link = make_link(session, owner, org.id)
    first, second = hit(link), hit(link)
    assert clicks.store([first]) == {(clicks.TOPIC, org.id)}
    clicks.store([first, second], resent=True)
    with Session(engine) as session:
        assert len(session.exec(select(Click)).all()) == 2
        total = session.exec(select(ClickRollup).where(ClickRollup.dimension == TOTAL)).one()
        assert total.clicks == 2


def test_who_may_switch_the_click_id_of_a_link(session):
    import pytest

    from orgportal.models import Role
    from orgportal.services.errors import NotFound, PermissionDenied
    from tests.factories import add_member

    owner = make_user(session)
    org = make_org(session, owner)
    link = make_link(session, owner, org.id)
    changed = clicks.set_append_click_id(
        session, user=owner, organization_id=org.id, link_id=link.id, enabled=True
    )
    assert changed.append_click_id
    viewer = add_member(session, org, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        clicks.set_append_click_id(
            session, user=viewer, organization_id=org.id, link_id=link.id, enabled=False
        )
    stranger = make_user(session)
    with pytest.raises(NotFound):
        clicks.set_append_click_id(
            session, user=stranger, organization_id=None, link_id=link.id, enabled=False
        )


def test_writers_storing_the_same_links_at_once_do_not_deadlock(engine, monkeypatch):
    """Several workers' click writers commit at once, their batches naming the same links in
    any order: every batch is stored (on PostgreSQL the rollup upserts once deadlocked)."""
    import threading

    from sqlmodel import Session

    from orgportal import db

    monkeypatch.setattr(db, "engine", lambda: engine)
    with Session(engine, expire_on_commit=False) as session:
        owner = make_user(session)
        org = make_org(session, owner)
        many = [make_link(session, owner, org.id) for _ in range(30)]
    agents = [CHROME, IPHONE, IPAD]
    failures: list[BaseException] = []

    def writer(order: list[Link]) -> None:
        try:
            for n in range(8):
                clicks.store([hit(link, agents[(i + n) % 3]) for i, link in enumerate(order)])
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=writer, args=(order,))
        for order in (many, many[::-1], many[10:] + many[:10])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engine) as session:
        assert len(session.exec(select(Click)).all()) == 3 * 8 * 30
        totals = session.exec(select(ClickRollup).where(ClickRollup.dimension == TOTAL)).all()
        assert sum(row.clicks for row in totals) == 3 * 8 * 30
