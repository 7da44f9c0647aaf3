"""What the garbage collector costs a backend worker, with and without `gc.freeze()`.

A worker holds ~300,000 objects from start-up (the app's pages, states, routes, libraries)
for its whole life. Python's full (generation 2) collection walks every tracked object, and
the worker's event loop, so every tab, redirect and API call it serves, stands still while
it runs. `adapters/server.freeze_startup_objects` (the last lifespan task) moves start-up's
objects out of the collector's sight.

Each side runs in a fresh process that imports the app as a worker does (`orgportal.orgportal`),
then, for `--seconds`, makes tabs' state trees as events do (a root `State` with its
substates, the Members page's state given rows) while the last `--tabs` of them stay alive
(the tabs whose states are in memory), and times every collection (`gc.callbacks`). Sides:
`thawed` (Python's defaults, as before) and `frozen` (`freeze_startup_objects()` first).

    .venv/bin/python benchmarks/gc_pauses.py [--seconds 20] [--tabs 300]
"""

import argparse
import collections
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def side(frozen: bool, seconds: float, tabs: int) -> dict:
    """Child process: the churn, timed; prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    from reflex.state import State

    import orgportal.orgportal  # noqa: F401  (the app, as a worker imports it)
    from orgportal.adapters.server import freeze_startup_objects
    from orgportal.state.members import MemberRow, MembersState

    startup_objects = len(gc.get_objects())
    if frozen:
        freeze_startup_objects()
    pauses: dict[int, list[float]] = collections.defaultdict(list)
    began = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - began[0])

    gc.callbacks.append(timed)
    alive: collections.deque = collections.deque(maxlen=tabs)
    path = MembersState.get_full_name().split(".")[1:]
    made, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        root = State(_reflex_internal_init=True)
        members = root.get_substate(path)
        members.members = [
            MemberRow(**{name: _sample(name, n) for name in MemberRow.__dataclass_fields__})
            for n in range(10)
        ]
        alive.append(root)
        made += 1
    gc.callbacks.remove(timed)
    return {
        "startup_objects": startup_objects,
        "trees_per_second": made / seconds,
        "pauses": {g: [len(p), max(p, default=0), sum(p)] for g, p in sorted(pauses.items())},
        "seconds": seconds,
    }


def _sample(field: str, n: int) -> object:
    """A plausible value for a member row's field (a string, number or flag)."""
    from orgportal.state.members import MemberRow

    kind = MemberRow.__dataclass_fields__[field].type
    if kind in (int, "int"):
        return n
    if kind in (bool, "bool"):
        return n % 2 == 0
    return f"{field}-{n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tabs", type=int, default=300)
    parser.add_argument("--side", choices=["thawed", "frozen"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side == "frozen", args.seconds, args.tabs)))
        return
    results = {}
    for name in ("thawed", "frozen"):
        out = subprocess.run(
            [sys.executable, __file__, "--side", name, "--seconds", str(args.seconds),
             "--tabs", str(args.tabs)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
        results[name] = json.loads(out.strip().splitlines()[-1])
    first = results["thawed"]
    print(
        f"\n{first['startup_objects']:,} objects tracked after start-up; {args.seconds:.0f} s of "
        f"state trees made, the last {args.tabs} alive\n"
    )
    print("| side | trees/s | full collections | longest | in full collections | all collections |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, result in results.items():
        full = result["pauses"].get("2", [0, 0, 0])
        every = sum(p[2] for p in result["pauses"].values())
        print(
            f"| {name} | {result['trees_per_second']:,.0f} | {full[0]} | {full[1] * 1000:,.0f} ms "
            f"| {full[2] / result['seconds']:.0%} of the time "
            f"| {every / result['seconds']:.0%} of the time |"
        )


if __name__ == "__main__":
    main()
