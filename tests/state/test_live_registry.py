"""One live-update mechanism: pages declare the topics they follow, and one table
keyed by topic and organization (or user) holds every watching tab of the worker."""

import asyncio

import pytest

from orgportal.adapters.live import LOST
from orgportal.adapters.worker_cache import HEARTBEAT_TOPIC
from orgportal.services import clicks, link_approval, tickets
from orgportal.state import analytics, approvals, live, ticket_reply, usage
from orgportal.state import tickets as ticket_pages


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(live, "_table", {})
    monkeypatch.setattr(live, "_where", {})
    return live


def test_every_topic_the_services_mark_is_followed_by_one_page():
    pages = {
        "usage": usage.UsageState,  # db.mark_usage_changed
        "personal_usage": usage.UsageState,  # db.mark_personal_usage_changed
        tickets.TOPIC: ticket_pages.TicketsState,
        tickets.TICKET_TOPIC: ticket_reply.TicketReplyState,  # one ticket's reply pages
        clicks.TOPIC: analytics.AnalyticsState,
        clicks.PERSONAL_TOPIC: analytics.AnalyticsState,
        link_approval.LIVE_TOPIC: approvals.ApprovalsState,
    }
    for topic, state in pages.items():
        assert topic in live.follow_of(state).topics, topic
        assert live._FOLLOWS[topic].refresh == live.follow_of(state).refresh, topic
    ticket_page = live.follow_of(ticket_pages.TicketState)
    assert ticket_page.page == live.follow_of(ticket_pages.TicketsState).page
    assert tickets.TICKET_TOPIC in ticket_page.topics  # the agent's page, beside the reply page
    assert LOST not in live._FOLLOWS and HEARTBEAT_TOPIC not in live._FOLLOWS


def test_a_topic_refreshed_its_own_way_cannot_be_followed_by_another_page():
    """Several pages may follow a topic only when its tabs are refreshed alike (each reloads
    its own state): the usage bars' own refresh, or a coalesced one, is the one page's."""
    with pytest.raises(ValueError, match="already followed"):
        live.follows("another page", "usage")(type("Other", (), {}))
    with pytest.raises(ValueError, match="already followed"):
        live.follows("another page", "tickets", every=1.0)(type("Other", (), {}))


def test_a_tab_has_one_registration_per_page(registry):
    registry.register("tickets", "tab", "tickets", 1, "list")
    registry.register("analytics", "tab", "analytics", 1, "chart")  # another page: kept
    registry.register("tickets", "tab", "tickets", 2, "ticket")

    assert registry.watchers("tickets", 1) == {}
    assert registry.watchers("tickets", 2) == {"tab": "ticket"}
    assert registry.watchers("analytics", 1) == {"tab": "chart"}

    registry.register("tickets", "tab", "tickets", 0)  # no organization: follows nothing
    assert registry._table == {("analytics", 1): {"tab": "chart"}}


def test_new_data_only_for_the_registration_it_was_meant_for(registry):
    registry.register("usage", "tab", "personal_usage", 5, 0)
    registry.update("usage", "tab", "personal_usage", 5, 30)
    registry.update("usage", "tab", "personal_usage", 6, 40)  # not registered there

    assert registry._table == {("personal_usage", 5): {"tab": 30}}


def test_changes_no_page_follows_are_ignored(monkeypatch):
    called: list[tuple[str, int]] = []

    async def refresh(_app, topic, key):
        called.append((topic, key))

    monkeypatch.setitem(live._FOLLOWS, "tickets", live.Follow("tickets", ("tickets",), refresh))

    async def run():
        for topic in (LOST, HEARTBEAT_TOPIC, "tickets"):
            await live.push(None, topic, 3)

    asyncio.run(run())
    assert called == [("tickets", 3)]
