"""What one tab stores: only the states its page used, as much for a big organization as
for a small one (`state/stored.py`), each compressed against its class's dictionary
(`state/packed.py`); measured on the real stack by benchmarks/state_memory.py."""

import asyncio
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from reflex.state import BaseState, State
from reflex_base.utils.exceptions import StateSchemaMismatchError

from orgportal import db, routes
from orgportal.models import Role
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.services import plan_changes
from orgportal.state import billing as billing_state
from orgportal.state import live, packed, plan_table, stored
from orgportal.state.base import PAGE_STATES, AppState
from orgportal.state.billing import BillingState
from orgportal.state.content import LinksState
from orgportal.state.members import MembersState
from orgportal.state.two_factor import RecoveryCodesNotice
from tests.factories import add_member, make_org, make_user, open_session
from tests.state.test_page_loads import connected

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    routes.ORGANIZATION,
    routes.ORG_MEMBERS,
    routes.ORG_SETTINGS,
    routes.ORG_BILLING,
    routes.LINKS,
    routes.FILES,
    routes.TICKETS,
    routes.ANALYTICS,
]


def seed_organization(session, *, members: int, links: int):
    """scripts/seed_big_org.py's bulk seeding (not a package: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("seed_big_org", ROOT / "scripts/seed_big_org.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seed_organization(session, name="Org", members=members, invites=0, links=links)


@pytest.fixture
def app_db(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(live, "_table", {})
    monkeypatch.setattr(live, "_where", {})


def open_page(cookie: str, route: str) -> State:
    """A new tab on `route`, as Reflex runs it: hydrate (the whole tree sent once, every
    computed var computed), then the page's load event, then its delta."""
    state = connected(cookie, route)
    root = state.parent_state
    root.dict()
    assert asyncio.run(AppState.load_page.fn(state, route)) is None
    root.dict()
    return root


def writes(root: BaseState) -> dict[str, int]:
    """What Reflex's state manager writes for this tab: each touched state that serializes
    to some bytes (StateManagerRedis._collect_state_writes), by class name."""
    found, stack = {}, [root]
    while stack:
        state = stack.pop()
        if state._was_touched and (payload := state._serialize()):
            found[type(state).__name__] = len(payload)
        stack.extend(state.substates.values())
    return found


def reflex_payload(stored_bytes: bytes, cls: type[BaseState]) -> bytes:
    """The pickle Reflex made (`BaseState._serialize`), from what `packed.pack` stored."""

    class Inflating(pickle.Unpickler):
        def find_class(self, module, name):
            assert (module, name) == ("orgportal.state.packed", "unpack")
            return lambda data: zlib.decompressobj(zdict=packed.dictionary(cls)).decompress(data)

    return Inflating(io.BytesIO(stored_bytes)).load()


@pytest.mark.parametrize("route", PAGES)
def test_a_tab_stores_only_the_states_its_page_used(app_db, session, route):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = open_session(session, owner, org.id)
    session.commit()

    root = open_page(f"{routes.SESSION_COOKIE}={raw}", route)

    allowed = {"State", "AppState", *(cls.__name__ for cls in PAGE_STATES[route])}
    assert set(writes(root)) <= allowed


@pytest.mark.parametrize("route", PAGES)
def test_a_big_organizations_tab_stores_as_much_as_a_small_ones(app_db, session, route):
    """Beyond one page of rows (25) and the plan's limits (the usage notice), the
    organization's size changes nothing a tab keeps."""
    sizes = {}
    for label, count in (("small", 60), ("big", 600)):
        owner, org = seed_organization(session, members=count, links=count)
        raw, _ = open_session(session, owner, org.id)
        session.commit()
        sizes[label] = writes(open_page(f"{routes.SESSION_COOKIE}={raw}", route))

    assert set(sizes["big"]) == set(sizes["small"])
    for name, small in sizes["small"].items():
        # the same rows and fields; only numbers have a digit more ("600 members", the
        # seeded links' targets ".../campaign/599")
        assert abs(sizes["big"][name] - small) <= 16 + small // 50, (name, sizes)


def test_an_unused_state_is_not_stored_and_a_used_one_always_is():
    root = State(_reflex_internal_init=True)
    links = root.get_substate(LinksState.get_full_name().split(".")[1:])
    notice = root.get_substate(RecoveryCodesNotice.get_full_name().split(".")[1:])
    root.dict()  # computes (and caches) every computed var: a touch, not a use
    assert links._serialize() == b"" and notice._serialize() == b""

    links.page = 3
    payload = links._serialize()
    assert payload and stored._STORED.encode() not in reflex_payload(payload, LinksState)
    again = BaseState._deserialize(payload)
    assert again.page == 3

    again.page = 0  # back to its default: the stored 3 must be replaced
    assert pickle.loads(again._serialize())[1].page == 0


def test_the_plan_table_is_computed_not_stored(app_db, session):
    owner = make_user(session)
    org = make_org(session, owner)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    billing = open_page(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_BILLING).get_substate(
        BillingState.get_full_name().split(".")[1:]
    )

    assert billing.plan_columns == plan_table.columns(billing.plan_key)
    assert billing.pricing_rows == plan_table.rows()
    payload = reflex_payload(billing._serialize(), BillingState)
    assert plan_table.rows()[-1].label.encode() not in payload  # "Price per year, …"

    loner = make_user(session)  # no organization: the Personal Workspace
    personal, _ = open_session(session, loner, None)
    session.commit()
    billing = open_page(f"{routes.SESSION_COOKIE}={personal}", routes.ORG_BILLING).get_substate(
        BillingState.get_full_name().split(".")[1:]
    )
    assert billing.plan_columns == [] and billing.pricing_rows == []


def test_members_are_kept_a_page_at_a_time(app_db, session):
    owner, org = seed_organization(session, members=60, links=0)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    members = open_page(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_MEMBERS).get_substate(
        MembersState.get_full_name().split(".")[1:]
    )
    assert len(members.members) == 25 and members.member_total == 61


def test_closed_tabs_are_forgotten(monkeypatch):
    """A worker's live registrations follow its open tabs: those whose socket closed go at
    the next sweep, even in a workspace that never changes (no push to meet them)."""
    monkeypatch.setattr(live, "_table", {})
    monkeypatch.setattr(live, "_where", {})
    live.register("tickets", "open-tab", "tickets", 1, "list")
    live.register("tickets", "closed-tab", "tickets", 1, "list")
    live.register("usage", "closed-tab", "usage", 1, None)
    namespace = SimpleNamespace(
        token_to_sid={"open-tab": "sid-1"},
        namespace="/_event",
        server=SimpleNamespace(manager=SimpleNamespace(is_connected=lambda sid, ns: True)),
    )

    assert live.forget_closed(SimpleNamespace(event_namespace=namespace)) == 1

    assert live._table == {("tickets", 1): {"open-tab": "list"}}
    assert set(live._where) == {("tickets", "open-tab")}


# --- compressed payloads (state/packed.py) ---------------------------------------------------


def signed_in_root(app_db, session, route: str = routes.ORG_MEMBERS) -> State:
    owner, org = seed_organization(session, members=30, links=0)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    return open_page(f"{routes.SESSION_COOKIE}={raw}", route)


def test_a_stored_state_is_compressed_and_reflex_reads_it_back(app_db, session):
    root = signed_in_root(app_db, session)
    members = root.get_substate(MembersState.get_full_name().split(".")[1:])
    for state in (root, members):  # Reflex's root State, and one of ours
        stored_bytes = state._serialize()
        reflexs_own = BaseState._serialize(state)
        assert len(stored_bytes) < len(reflexs_own) / 2
        assert reflex_payload(stored_bytes, type(state)) == reflexs_own

        # what the Redis state manager does with it: plain pickle.loads, then the schema check
        again = BaseState._deserialize(stored_bytes)
        assert type(again) is type(state)
        assert again.__getstate__() == {
            name: value for name, value in state.__getstate__().items() if name != stored._STORED
        }
    assert BaseState._deserialize(root._serialize()).router.headers.cookie.startswith(
        routes.SESSION_COOKIE
    )


def test_a_state_stored_before_compression_still_loads(app_db, session):
    members = signed_in_root(app_db, session).get_substate(
        MembersState.get_full_name().split(".")[1:]
    )
    again = BaseState._deserialize(BaseState._serialize(members))  # Reflex's plain pickle
    assert again.members == members.members


def test_a_small_payload_that_would_grow_is_kept_as_reflex_made_it():
    payload = pickle.dumps(("schema", 1))
    assert packed.pack(State, payload) == payload


def test_a_state_stored_by_another_declaration_of_its_class_is_refused(
    app_db, session, monkeypatch
):
    """After a deploy that changed a class, its stored payloads are refused as Reflex
    refuses a schema change (a fresh state), not read into the new class."""
    members = signed_in_root(app_db, session).get_substate(
        MembersState.get_full_name().split(".")[1:]
    )
    real_words = packed._words
    monkeypatch.setattr(  # the class as it was declared before: one var more
        packed, "_words", lambda cls, computed: [*real_words(cls, computed), "retired_var"]
    )
    packed._dictionary_of.cache_clear()
    before_the_deploy = members._serialize()
    monkeypatch.setattr(packed, "_words", real_words)
    packed._dictionary_of.cache_clear()

    with pytest.raises(StateSchemaMismatchError):
        BaseState._deserialize(before_the_deploy)
    assert BaseState._deserialize(members._serialize()).members == members.members


def test_reflexs_schema_check_still_applies_to_a_compressed_state(app_db, session):
    members = signed_in_root(app_db, session).get_substate(
        MembersState.get_full_name().split(".")[1:]
    )
    stale = packed.pack(MembersState, pickle.dumps(("another schema", members)))
    assert b"unpack" in stale  # compressed, not Reflex's own
    with pytest.raises(StateSchemaMismatchError):
        BaseState._deserialize(stale)


def test_every_state_class_has_a_dictionary_of_its_own():
    """zlib names a payload's dictionary by its Adler-32 only: no two state classes share one."""
    classes = packed._state_classes()
    ids = {zlib.adler32(packed.dictionary(cls)) for cls in classes}
    assert len(ids) == len({packed.dictionary(cls) for cls in classes}) > 30


def test_every_worker_builds_the_same_dictionaries():
    """Built from the declarations only: another process (another hash seed) builds the
    same bytes, so a tab's state written by one worker is read by any other."""
    script = (
        "import zlib\n"
        "from orgportal.orgportal import app\n"
        "from orgportal.state import packed\n"
        "print(sorted(zlib.adler32(packed.dictionary(c)) for c in packed._state_classes()\n"
        "             if c.__module__.startswith(('orgportal.', 'reflex.'))))\n"
    )
    here = sorted(
        zlib.adler32(packed.dictionary(cls))
        for cls in packed._state_classes()
        if cls.__module__.startswith(("orgportal.", "reflex."))
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == str(here)


def test_what_a_plan_change_would_do_is_said_from_the_standing_not_stored(app_db, session):
    """The Billing page says what the chosen plan and interval would change (SPEC §6); the
    tab keeps the organization's standing, not the eight summaries."""
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    raw, _ = open_session(session, owner, org.id)
    session.commit()
    billing = open_page(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_BILLING).get_substate(
        BillingState.get_full_name().split(".")[1:]
    )
    now = plan_changes.standing(session, org)
    # computed (as NO_CHANGE) by the first frame, before the load read the standing
    assert billing.chosen_change == plan_table.change(
        plan_changes.summarize(now, "starter", "monthly")
    )

    for plan, interval in (("Starter", "Monthly"), ("Professional", "Annual")):
        billing.chosen_plan, billing.chosen_interval = plan, interval
        key = billing_state.PLAN_KEY_BY_NAME[plan]
        summary = plan_changes.summarize(now, key, billing_state.INTERVAL_BY_LABEL[interval])
        assert billing.chosen_change == plan_table.change(summary)
        assert billing.change_confirmation.startswith(f"{summary.headline}.")
    assert billing.chosen_change.headline == "Upgrading to Professional"
    payload = reflex_payload(billing._serialize(), BillingState)
    assert b"Upgrading to Basic" not in payload  # not one of the chosen ones

    # who may not buy (a Viewer) is told nothing of what a change would do
    raw, _ = open_session(session, viewer, org.id)
    session.commit()
    billing = open_page(f"{routes.SESSION_COOKIE}={raw}", routes.ORG_BILLING).get_substate(
        BillingState.get_full_name().split(".")[1:]
    )
    assert billing.plan_columns and billing.chosen_change == plan_table.NO_CHANGE
