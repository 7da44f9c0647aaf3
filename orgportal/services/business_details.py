"""Validation of the Business Details card (SPEC §2): every field checked, all or nothing."""

from dataclasses import asdict, dataclass, fields

import phonenumbers
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError as StdnumError

from orgportal.services import countries
from orgportal.services.errors import ValidationFailed
from orgportal.services.validation import FieldError, http_url, normalize_email, text


@dataclass(frozen=True)
class BusinessDetails:
    address: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    vat_number: str = ""
    registration_number: str = ""

    @classmethod
    def of(cls, obj) -> "BusinessDetails":
        return cls(**{f.name: getattr(obj, f.name) or "" for f in fields(cls)})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


LIMITS = {"address": 200, "city": 100, "postcode": 20, "registration_number": 64}


def validate(details: BusinessDetails) -> BusinessDetails:
    """The normalized details, or ValidationFailed naming each bad field."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for name, limit in LIMITS.items():
        _check(
            errors,
            clean,
            name,
            lambda v, n=name, m=limit: text(v, label=_label(n), max_len=m),
            getattr(details, name),
        )
    _check(errors, clean, "country", _country, details.country)
    _check(errors, clean, "phone", lambda v: _phone(v, clean.get("country", "")), details.phone)
    _check(errors, clean, "email", normalize_email, details.email)
    _check(errors, clean, "website", http_url, details.website)
    _check(
        errors, clean, "vat_number", lambda v: _vat(v, clean.get("country", "")), details.vat_number
    )
    if errors:
        raise ValidationFailed(errors)
    return BusinessDetails(**clean)


def _check(errors: dict, clean: dict, name: str, validator, raw: str) -> None:
    raw = (raw or "").strip()
    if not raw:
        clean[name] = ""
        return
    try:
        clean[name] = validator(raw)
    except FieldError as exc:
        errors[name] = str(exc)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _country(raw: str) -> str:
    country = countries.get(raw)
    if country is None:
        raise FieldError("Choose a country from the list.")
    return country.code


def _phone(raw: str, country: str) -> str:
    try:
        number = phonenumbers.parse(raw, country or None)
    except phonenumbers.NumberParseException as exc:
        raise FieldError(
            "Enter the phone number in international format, e.g. +44 20 7946 0958."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldError(
            "This phone number is not valid. Use international format, e.g. +44 20 7946 0958."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _vat(raw: str, country: str) -> str:
    """Checked with python-stdnum where it knows the country's VAT format (EU, UK and more)."""
    if not country:
        raise FieldError("Choose the country first so the VAT number can be checked.")
    module = get_cc_module("el" if country == "GR" else country.lower(), "vat")
    if module is None:
        return raw.upper()
    try:
        return module.validate(raw)
    except StdnumError as exc:
        raise FieldError(f"This is not a valid {country} VAT number.") from exc
