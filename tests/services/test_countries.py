"""The country picker's search: the names people type find their country first,
and the ISO names still work; the list is every ISO 3166 country, with its flag."""

import pytest

from orgportal.services import countries


def first(query: str) -> str:
    return countries.search(query)[0].code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("uk", "GB"),
        ("UK", "GB"),
        ("u.k.", "GB"),
        ("britain", "GB"),
        ("Great Britain", "GB"),
        ("england", "GB"),
        ("scotland", "GB"),
        ("usa", "US"),
        ("US", "US"),
        ("u.s.a.", "US"),
        ("america", "US"),
        ("united states of america", "US"),
        ("holland", "NL"),
        ("the netherlands", "NL"),
        ("uae", "AE"),
        ("russia", "RU"),
        ("turkey", "TR"),
        ("ivory coast", "CI"),
        ("cote d'ivoire", "CI"),  # without the accent
        ("Côte", "CI"),
        ("burma", "MM"),
        ("korea", "KR"),
        ("north korea", "KP"),
        ("czech republic", "CZ"),  # pycountry's official name
        ("deu", "DE"),  # alpha-3
        ("de", "DE"),  # alpha-2 before names containing "de"
        ("germ", "DE"),
        ("vietnam", "VN"),  # pycountry's common name
        ("Viet Nam", "VN"),  # and its name
    ],
)
def test_the_names_people_use_find_their_country_first(query, code):
    assert first(query) == code


def test_an_exact_alias_comes_before_a_name_that_starts_with_it():
    assert [c.code for c in countries.search("uk")] == ["GB", "UA"]  # then Ukraine


def test_names_shown_come_before_official_names_at_the_same_closeness():
    found = [c.code for c in countries.search("united")]
    assert found[:3] == ["AE", "GB", "US"]
    assert found.index("MX") > found.index("UM")  # "United Mexican States" is official only


def test_codes_match_only_whole():
    assert "GB" not in [c.code for c in countries.search("g")][:1]
    assert [c.code for c in countries.search("gbr")] == ["GB"]


def test_nothing_found_and_everything_listed():
    assert countries.search("zzzz") == []
    assert len(countries.search("", limit=300)) == 249
    assert countries.search("  ", limit=3) == list(countries.all_countries()[:3])


def test_every_country_has_its_flag_file():
    from orgportal.config import ROOT

    for country in countries.all_countries():
        assert (ROOT / "assets" / country.flag_url.lstrip("/")).is_file(), country.code
    assert (ROOT / "assets" / "flags" / "LICENSE").is_file()


def test_countries_cover_iso_3166_with_flags_and_search():
    assert len(countries.all_countries()) == 249
    assert "United Kingdom" in [c.label for c in countries.search("King")]
    assert countries.get("gb").label == "United Kingdom"
    assert countries.get("gb").flag_url == "/flags/gb.svg"
    assert countries.get("XX") is None
