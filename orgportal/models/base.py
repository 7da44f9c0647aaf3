"""Shared column helpers for the SQLModel tables."""

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now: sqlmodel's UTCDateTime refuses naive datetimes."""
    return datetime.now(UTC)


PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
PUBLIC_ID_LENGTH = (
    12  # 36**12 ≈ 4.7e18 values: a clash is never expected (and the index refuses it)
)


def new_public_id(prefix: str) -> str:
    """`org_k3x9…`: the id the REST API shows (SPEC §8: random, stable, never reused), so
    integer keys, which reveal counts and are guessable, stay internal. Always 12 random
    characters, so it never equals a fixed name such as `org_personal`."""
    return prefix + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
