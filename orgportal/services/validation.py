"""Boundary validators shared by services: each returns the normalized value or raises."""

import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


class FieldError(ValueError):
    """One field's message; services gather these into ValidationFailed."""


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased, syntactically valid email (no DNS lookups: we may be offline)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError(f"Enter a valid email address ({exc}).") from exc
    return result.normalized.lower()


def http_url(raw: str, *, https_only: bool = False) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme.lower() not in schemes or not parts.hostname or " " in value:
        if https_only:
            raise FieldError("Enter a full https:// address, e.g. https://example.com/logo.png.")
        raise FieldError(
            "Enter a website starting with http:// or https://, e.g. https://example.com."
        )
    if "." not in parts.hostname and parts.hostname != "localhost":
        raise FieldError("Enter a website with a full domain name, e.g. https://example.com.")
    return value


def text(raw: str, *, label: str, min_len: int = 0, max_len: int, single_line: bool = False) -> str:
    """Trimmed text within its limits. `single_line` fields (names, subjects) end up in mail
    headers and one-line displays, so line breaks and other control characters are refused."""
    value = raw.strip()
    if single_line and any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in value):
        raise FieldError(f"{label} must be one line, without line breaks or control characters.")
    if len(value) < min_len:
        if min_len == 1:
            raise FieldError(f"{label} is required.")
        raise FieldError(f"{label} must be at least {min_len} characters.")
    if len(value) > max_len:
        raise FieldError(f"{label} must be at most {max_len} characters.")
    return value


def new_password(raw: str, *, email: str) -> str:
    """A password a person may choose (SPEC §1): at least 10 characters, not their email.
    Used by registration, password reset and password change alike."""
    if len(raw) < 10:
        raise FieldError("Use at least 10 characters.")
    if email and raw.strip().lower() == email.strip().lower():
        raise FieldError("Your password must not be your email address.")
    return raw
