"""ISO 3166 countries from pycountry, with their flags, for the country picker.

People type the names they use, not ISO's: "UK", "USA", "Britain", "Holland", "Ivory Coast".
So a search looks at each country's name, common name and official name, its alpha-2 and
alpha-3 codes and the usual aliases below, without case or accents, and the closest matches
come first (an exact name, code or alias before a name that starts with the query, before
one that merely contains it): "uk" lists the United Kingdom before Ukraine.

Flags are SVG files (`assets/flags/<code>.svg`, from the MIT-licensed flag-icons): flag
emoji need a colour emoji font, which many desktops do not have.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry

FLAGS_PATH = "/flags"

# The names people use that ISO does not (matched whole, like a code).
ALIASES: dict[str, tuple[str, ...]] = {
    "GB": (
        "UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales",
        "Northern Ireland",
    ),
    "US": ("USA", "U.S.", "U.S.A.", "America", "United States of America"),
    "NL": ("Holland", "The Netherlands", "Nederland"),
    "AE": ("UAE", "Emirates"),
    "RU": ("Russia",),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey",),
    "CI": ("Ivory Coast",),
    "MM": ("Burma",),
    "CV": ("Cape Verde",),
    "TL": ("East Timor",),
    "SZ": ("Swaziland",),
    "MK": ("Macedonia",),
    "CD": ("DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of the Congo"),
    "CG": ("Congo-Brazzaville", "Republic of the Congo"),
    "KR": ("Korea", "Republic of Korea"),
    "VA": ("Vatican", "Vatican City"),
    "FK": ("Falklands",),
    "DE": ("Deutschland",),
    "ES": ("España",),
    "CH": ("Schweiz", "Suisse", "Svizzera"),
    "IE": ("Éire", "Eire"),
    "VI": ("US Virgin Islands",),
    "BN": ("Brunei",),
}  # fmt: skip


def normalize(text: str) -> str:
    """Lower case without accents, dots or punctuation: "U.S.A." → "usa", "Côte d'Ivoire"
    → "cote d ivoire"."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).replace(".", "")
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    # What a search matches, normalized: the names shown and ISO's (`terms`), the official
    # name and the aliases (`extra_terms`, second at the same closeness) by prefix, word or
    # part; the alpha-2 and alpha-3 codes only whole.
    terms: tuple[str, ...] = ()
    extra_terms: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    @property
    def flag_url(self) -> str:
        """The flag's SVG, served from assets/."""
        return f"{FLAGS_PATH}/{self.code.lower()}.svg"

    @property
    def label(self) -> str:
        return self.name


@cache
def all_countries() -> tuple[Country, ...]:
    found = []
    for c in pycountry.countries:
        name = getattr(c, "common_name", None) or c.name
        terms = {normalize(c.name), normalize(name)}
        extra = {normalize(w) for w in (getattr(c, "official_name", None) or "",
                                        *ALIASES.get(c.alpha_2, ())) if w} - terms  # fmt: skip
        codes = (c.alpha_2.casefold(), c.alpha_3.casefold())
        found.append(Country(c.alpha_2, name, tuple(sorted(terms)), tuple(sorted(extra)), codes))
    return tuple(sorted(found, key=lambda c: normalize(c.name)))


@cache
def _by_code() -> dict[str, Country]:
    return {c.code: c for c in all_countries()}


def get(code: str) -> Country | None:
    return _by_code().get(code.strip().upper())


def _closeness(term: str, query: str) -> int | None:
    """0: the term is the query; 1: it starts with it; 2: a word of it does; 3: it
    contains it; None: no match."""
    if term == query:
        return 0
    if term.startswith(query):
        return 1
    if f" {query}" in f" {term}":
        return 2
    return 3 if query in term else None


def _rank(country: Country, query: str) -> tuple[int, int] | None:
    """How close the country is to the query (smaller is closer), None: no match. A code
    or an alias typed whole is as close as the name itself."""
    if query in country.codes:
        return (0, 0)
    found = [
        (closeness, 0 if closeness == 0 else extra)
        for extra, terms in ((0, country.terms), (1, country.extra_terms))
        for term in terms
        if (closeness := _closeness(term, query)) is not None
    ]
    return min(found) if found else None


def search(query: str, limit: int = 50) -> list[Country]:
    """The countries matching `query` (names, codes, aliases), closest first, then by name."""
    q = normalize(query)
    if not q:
        return list(all_countries()[:limit])
    ranked = [(rank, c) for c in all_countries() if (rank := _rank(c, q)) is not None]
    ranked.sort(key=lambda pair: pair[0])  # stable: by name when as close
    return [c for _, c in ranked[:limit]]
