"""ISO 3166 countries from pycountry, with flag emoji, for the searchable dropdown."""

from dataclasses import dataclass
from functools import cache

import pycountry


@dataclass(frozen=True)
class Country:
    code: str
    name: str

    @property
    def flag(self) -> str:
        """Two regional-indicator symbols spell the flag emoji of an alpha-2 code."""
        return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in self.code)

    @property
    def label(self) -> str:
        return f"{self.flag} {self.name}"


@cache
def all_countries() -> tuple[Country, ...]:
    countries = (
        Country(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries
    )
    return tuple(sorted(countries, key=lambda c: c.name))


def get(code: str) -> Country | None:
    code = code.strip().upper()
    return next((c for c in all_countries() if c.code == code), None)


def search(query: str, limit: int = 50) -> list[Country]:
    """Countries whose name contains the query (or whose code equals it), case-insensitive."""
    q = query.strip().casefold()
    if not q:
        return list(all_countries()[:limit])
    hits = [c for c in all_countries() if q in c.name.casefold() or q == c.code.casefold()]
    return hits[:limit]
