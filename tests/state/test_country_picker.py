"""The country picker's list goes to the page only while it is open: a closed list is
empty, so a page's first delta (any page's: the state tree is sent whole) and every later
delta no longer carry the whole list of countries (24 KB)."""

import asyncio

from orgportal import routes
from orgportal.orgportal import app  # noqa: F401  (declares the pages)
from orgportal.state.business_details import BusinessDetailsState
from tests.state.test_page_loads import connected


def picker() -> BusinessDetailsState:
    state = connected("", routes.ORG_SETTINGS)
    return state.get_substate(BusinessDetailsState.get_full_name().split(".")[2:])


def test_a_closed_list_is_empty_and_not_in_the_first_delta():
    state = picker()
    snapshot = state.parent_state.parent_state.dict()
    assert snapshot[BusinessDetailsState.get_full_name()]["country_options_rx_state_"] == []
    assert state.country_active_id == ""


def test_the_open_list_holds_what_the_query_matches():
    state = picker()
    asyncio.run(BusinessDetailsState.set_country_query.fn(state, "fran"))
    assert [o.code for o in state.country_options] == ["FR"]
    asyncio.run(BusinessDetailsState.close_countries.fn(state))
    assert state.country_options == []


def test_arrow_down_on_a_closed_list_opens_it_at_the_first_option():
    state = picker()
    asyncio.run(BusinessDetailsState.country_key.fn(state, "ArrowDown"))
    assert state.country_open and state.country_active == 0
    assert state.country_active_id == state.country_options[0].option_id
    chosen = state.country_options[0].code
    asyncio.run(BusinessDetailsState.country_key.fn(state, "Enter"))
    assert state.country == chosen and not state.country_open


def test_a_query_that_matches_nothing_opens_no_option():
    state = picker()
    asyncio.run(BusinessDetailsState.set_country_query.fn(state, "zzzz"))
    assert state.country_open and state.country_options == []
    assert (
        asyncio.run(BusinessDetailsState.country_key.fn(state, "ArrowDown")) is None
        and state.country_active == -1
    )
