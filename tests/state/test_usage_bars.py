"""The live push sends each organization's pages a ready-made delta (`usage_bars.frame`)
instead of a state round trip per page. That frame must be exactly what Reflex
sends after setting the same bars in the page's state: the same state path, var names
(computed vars included) and values, or the browser would show other labels than a load."""

import pytest
from reflex.state import State

from orgportal.services.plans import FREE, PLANS
from orgportal.services.usage import OrganizationUsage, Usage
from orgportal.state import usage_bars
from orgportal.state.usage import UsageState

MB = 1024 * 1024
UNLIMITED_PLAN = next(plan for plan in PLANS.values() if plan.links is None)


def reflex_delta(view: OrganizationUsage, can_upgrade: bool) -> dict:
    """The delta Reflex itself builds for a page whose bars are set to `view`."""
    root = State(_reflex_internal_init=True)
    state = root.get_substate(UsageState.get_full_name().split(".")[1:])
    state.usage_can_upgrade = can_upgrade
    root._clean()
    state._show(view)
    return root.get_delta()


@pytest.mark.parametrize("can_upgrade", [False, True])
@pytest.mark.parametrize(
    "view",
    [
        OrganizationUsage(FREE, Usage(links=0, storage_bytes=0), members=1, seat_limit=3),
        OrganizationUsage(FREE, Usage(links=45, storage_bytes=99 * MB), members=3, seat_limit=3),
        OrganizationUsage(FREE, Usage(links=50, storage_bytes=1536), members=2, seat_limit=3),
        OrganizationUsage(
            UNLIMITED_PLAN, Usage(links=12_345, storage_bytes=5 * MB), members=7, seat_limit=None
        ),
    ],
    ids=["empty", "nearly-full", "links-full", "unlimited"],
)
def test_the_pushed_frame_is_the_delta_reflex_sends(view, can_upgrade):
    name = UsageState.get_full_name()
    expected = reflex_delta(view, can_upgrade)[name]
    frame = usage_bars.frame(name, usage_bars.organization_values(view), can_upgrade)

    assert frame == {name: expected}


def test_only_those_who_may_upgrade_are_told_to():
    view = OrganizationUsage(FREE, Usage(links=50, storage_bytes=0), members=1, seat_limit=3)
    values = usage_bars.organization_values(view)
    notice = "limit_notice" + "_rx_state_"

    assert "upgrade the plan" in usage_bars.frame("s", values, True)["s"][notice]
    assert usage_bars.frame("s", values, False)["s"][notice] == ""


@pytest.fixture
def registry(monkeypatch):
    from orgportal.state import live

    monkeypatch.setattr(live, "_table", {})
    monkeypatch.setattr(live, "_where", {})
    return live


def watch(registry, token, organization_id, page):
    registry.register("usage", token, "usage", organization_id, page)


def test_a_tab_watches_one_organization_at_a_time(registry):
    from orgportal.state.usage import Watch

    page = Watch(user_id=1, can_upgrade=False, loaded_at=0.0)
    watch(registry, "tab", 10, page)
    registry.unwatch("usage", "tab")  # the tab's next load: it now shows organization 20
    watch(registry, "tab", 20, page)

    assert registry.watchers("usage", 10) == {}  # organization 10's pushes skip it
    assert registry.watchers("usage", 20) == {"tab": page}
    assert registry._table == {("usage", 20): {"tab": page}}


def test_a_late_drop_for_the_old_organization_keeps_the_new_registration(registry):
    from orgportal.state.usage import Watch

    page = Watch(user_id=1, can_upgrade=True, loaded_at=0.0)
    watch(registry, "tab", 10, page)
    watch(registry, "other", 10, page)
    registry.unwatch("usage", "tab")
    watch(registry, "tab", 20, page)

    registry.unwatch("usage", "tab", "usage", 10)  # a push to 10 that found the tab moved on

    assert registry._table == {("usage", 10): {"other": page}, ("usage", 20): {"tab": page}}
    assert registry._where == {("usage", "tab"): ("usage", 20), ("usage", "other"): ("usage", 10)}


def test_a_personal_workspace_page_replaces_the_organization_registration(registry):
    """The bars of a tab show one workspace: its Personal Workspace load (topic
    "personal_usage", by user, with the pool it draws on) replaces its organization's."""
    watch(registry, "tab", 10, "page")
    registry.register("usage", "tab", "personal_usage", 1, 10)

    assert registry.watchers("usage", 10) == {}
    assert registry.keys("personal_usage", lambda pool: pool == 10) == [1]
    assert registry.keys("personal_usage", lambda pool: pool == 11) == []
