"""Dates and times as every page shows them: `6 Dec 2026` and `29 Nov 2026, 12:39 UTC`.

Stored datetimes are UTC (naive or aware); an aware one in another zone is converted first,
so the "UTC" label is always true."""

import datetime as dt


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC)


def date(value: dt.date | dt.datetime | None) -> str:
    """`6 Dec 2026` (no leading zero); "" for no date."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _utc(value)
    return f"{value.day} {value:%b %Y}"


def date_time(value: dt.datetime | None) -> str:
    """`29 Nov 2026, 12:39 UTC`; "" for no time."""
    if value is None:
        return ""
    value = _utc(value)
    return f"{date(value)}, {value:%H:%M} UTC"
