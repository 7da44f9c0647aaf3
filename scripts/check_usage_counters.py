"""Recount every usage counter from the rows and print any drift; `--repair` rewrites them.

    .venv/bin/python scripts/check_usage_counters.py [--repair]

Uses DATABASE_URL like the app. Exit status 1 when drift was found (and not repaired), so a
scheduled job can alert on it. Run `--repair` after importing links or files in bulk.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orgportal.db import unit_of_work  # noqa: E402
from orgportal.services import usage_counters  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repair", action="store_true", help="rewrite the counters")
    args = parser.parse_args()
    with unit_of_work() as session:
        drift = usage_counters.repair(session) if args.repair else usage_counters.check(session)
    for item in drift:
        print(f"{item.counter}: {item.field} is {item.stored}, the rows say {item.expected}")
    print(f"{len(drift)} counter(s) drifted{'; repaired' if args.repair and drift else ''}.")
    return 1 if drift and not args.repair else 0


if __name__ == "__main__":
    sys.exit(main())
