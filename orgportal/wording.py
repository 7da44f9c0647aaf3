"""Small wording rules shared by services, states and views, so every page says it alike."""


def count(n: int, noun: str) -> str:
    """A count with its noun in the right number: "1 seat", "3 seats", "0 members"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
