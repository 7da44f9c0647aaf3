"""Boundary validators shared by services: each returns the normalized value or raises."""

import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


class FieldError(ValueError):
    """One field's message; services gather these into ValidationFailed."""


EMAIL_EXAMPLE = "Enter an email address like name@example.com."
# email-validator's refusals, by a phrase of its message, in our own words (its text is
# never shown: it speaks of "@-signs" and "special-use names"). First match wins.
EMAIL_REASONS = (
    ("too long", "This email address is too long."),
    ("period", "Check the dots: an email address cannot start or end with one, or have "
     "two in a row."),
    ("hyphen", "The part after the @ cannot start or end with a hyphen."),
    ("before the @-sign", "The part before the @ has a character an email address cannot "
     "have; letters, digits and . _ - + are fine."),
    ("invalid characters", "The part after the @ has a character a domain cannot have; use "
     "letters, digits, dots and hyphens, like example.com."),
    ("special-use", "Use an email address on a real domain, like name@example.com."),
    ("top-level domain", "Use an email address on a real domain, like name@example.com."),
    ("bracketed", "Use an email address on a domain name, like name@example.com."),
)  # fmt: skip


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased, syntactically valid email (no DNS lookups: we may be offline).
    A refusal says what is wrong in plain words (`email_problem`)."""
    value = raw.strip()
    problem = email_problem(value)
    if problem:
        raise FieldError(problem)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError(_email_reason(str(exc))) from exc
    return result.normalized.lower()


def email_problem(value: str) -> str:
    """The common mistakes, checked before email-validator so the message can be specific:
    "" when none of them applies."""
    if not value:
        return EMAIL_EXAMPLE
    if any(ch.isspace() for ch in value):
        return "An email address cannot contain spaces."
    if value.count("@") != 1:
        return (
            "An email address needs an @, like name@example.com."
            if "@" not in value
            else "An email address has only one @, like name@example.com."
        )
    local, domain = value.split("@")
    if not local:
        return "Add the name before the @, like name@example.com."
    if not domain:
        return "Add the domain after the @, like name@example.com."
    if "." not in domain:
        return "The part after the @ needs a dot, like name@example.com."
    return ""


def _email_reason(library_message: str) -> str:
    lowered = library_message.lower()
    for phrase, reason in EMAIL_REASONS:
        if phrase in lowered:
            return reason
    return EMAIL_EXAMPLE


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
