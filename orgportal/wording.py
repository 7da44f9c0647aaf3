"""Small wording rules shared by services, states and views, so every page says it alike."""

import math


def count(n: int, noun: str) -> str:
    """A count with its noun in the right number: "1 seat", "3 seats", "0 members"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def minutes(seconds: float) -> str:
    """A wait in whole minutes, rounded up and at least one: "Try again in 3 minutes"."""
    return count(max(1, math.ceil(seconds / 60)), "minute")
