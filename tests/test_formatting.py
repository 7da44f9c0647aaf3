"""One way to show dates and times on every page."""

import datetime as dt
import re
from pathlib import Path

from orgportal import formatting


def test_date_has_no_leading_zero():
    assert formatting.date(dt.date(2026, 12, 6)) == "6 Dec 2026"
    assert formatting.date(dt.datetime(2026, 11, 29, 12, 39)) == "29 Nov 2026"
    assert formatting.date(None) == ""


def test_date_time_names_the_zone():
    assert formatting.date_time(dt.datetime(2026, 11, 29, 12, 39)) == "29 Nov 2026, 12:39 UTC"
    assert formatting.date_time(dt.datetime(2026, 1, 2, 3, 4)) == "2 Jan 2026, 03:04 UTC"
    assert formatting.date_time(None) == ""


def test_aware_times_are_shown_in_utc():
    berlin = dt.timezone(dt.timedelta(hours=1))
    value = dt.datetime(2026, 12, 1, 0, 30, tzinfo=berlin)
    assert formatting.date_time(value) == "30 Nov 2026, 23:30 UTC"
    assert formatting.date(value) == "30 Nov 2026"


def test_no_state_formats_dates_itself():
    state_dir = Path(formatting.__file__).parent / "state"
    pattern = re.compile(r"strftime|:%d %b|%Y-%m-%d")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(state_dir.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
