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


# The prefix a VAT number carries in the EU's VIES and on UK invoices (Greece's is EL).
VAT_PREFIXES = {
    **{cc: cc for cc in ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR",
                         "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT",
                         "RO", "SE", "SI", "SK", "GB")},
    "GR": "EL",
}  # fmt: skip
VAT_MAX = 32  # the column's length


def _vat(raw: str, country: str) -> str:
    """Checked with python-stdnum where it knows the country's VAT format (EU, UK and more),
    then kept as entered: stdnum's compact form drops the country prefix."""
    if not country:
        raise FieldError("Choose the country first so the VAT number can be checked.")
    module = get_cc_module(country.lower(), "vat")
    if module is not None:
        try:
            compact = module.compact(module.validate(raw))
        except StdnumError as exc:
            raise FieldError(f"This is not a valid {country} VAT number.") from exc
        shown = vat_as_entered(raw, country)
        return shown if len(shown) <= VAT_MAX else vat_as_entered(compact, country)
    return vat_as_entered(raw, country)[:VAT_MAX]


def vat_as_entered(raw: str, country: str) -> str:
    """The VAT number as typed (upper case, single spaces) with the country's prefix when it
    was left out: "gb 980 7806 84" → "GB 980 7806 84", "980780684" → "GB980780684". Also
    shows numbers saved by earlier versions (stdnum's compact form, without the prefix)."""
    shown = " ".join((raw or "").upper().split())
    prefix = VAT_PREFIXES.get(country.upper(), "")
    if not shown or not prefix or shown.replace(" ", "").startswith(prefix):
        return shown
    return f"{prefix} {shown}" if " " in shown else f"{prefix}{shown}"
