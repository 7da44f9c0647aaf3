"""Dates, times and sizes as every page and mail shows them: `6 Dec 2026`, `29 Nov 2026,
12:39 UTC` and `1.5 KB`.

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


def human_bytes(size: int) -> str:
    """1536 → "1.5 KB", 104857600 → "100 MB" (binary units, as the plan table means them)."""
    value, units = float(size), ["B", "KB", "MB", "GB", "TB"]
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{f'{value:.1f}'.rstrip('0').rstrip('.')} {units[unit]}"
