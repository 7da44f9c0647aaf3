"""Shared column helpers for the SQLModel tables."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now: sqlmodel's UTCDateTime refuses naive datetimes."""
    return datetime.now(UTC)
