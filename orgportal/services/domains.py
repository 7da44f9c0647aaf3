"""Authorized Domains (SPEC §7): where an organization's website plugin may submit tickets.

Domains are stored IDNA-normalized (punycode) and lower case, which is also how browsers
send the `Origin` host, so matching is a plain comparison on label boundaries: a domain
covers itself and its subdomains, never a longer name that merely ends the same way.
"""

import ipaddress
from urllib.parse import urlsplit

import idna
from sqlmodel import Session, col, select

from orgportal.models import AuthorizedDomain, Organization, User
from orgportal.services import audit
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.permissions import organization_row
from orgportal.services.support_settings import require_support_admin
from orgportal.services.validation import FieldError

EXAMPLE = "shop.example.com"
MAX_DOMAINS = 50


class OriginNotAllowed(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("This website is not authorized to submit tickets to this organization.")


def normalize_domain(raw: str) -> str:
    """`Bücher.Example.` → `xn--bcher-kva.example`; anything but a bare domain is refused
    with a message that says what to enter instead."""
    value = (raw or "").strip()
    if not value:
        raise FieldError(f"Enter a domain, like {EXAMPLE}.")
    if "*" in value:
        raise FieldError(
            f"Enter the domain without wildcards, like {value.replace('*.', '').strip('*.') or EXAMPLE}: "
            "its subdomains are always included."
        )
    if any(mark in value for mark in ("://", "/", "?", "#", "@", ":", " ")):
        raise FieldError(f"Enter just the domain, like {_suggestion(value)}.")
    value = value.rstrip(".")
    try:
        ascii_name = idna.encode(value, uts46=True, std3_rules=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise FieldError(f"{value} is not a valid domain name. Enter one like {EXAMPLE}.") from None
    if _is_ip(ascii_name):
        raise FieldError(f"Enter a domain name, not an IP address, like {EXAMPLE}.")
    if "." not in ascii_name or len(ascii_name) > 253:
        raise FieldError(f"Enter a full domain name, like {EXAMPLE}.")
    return ascii_name


def clean_domain(raw: str) -> str:
    """What someone most likely meant by a pasted address: `https://Shop.example.com:8443/a/`
    → `shop.example.com` (scheme, user, port, path, query and trailing dots dropped). Anything
    that does not read as an address comes back as typed, for `normalize_domain` to refuse
    with its own message."""
    value = (raw or "").strip()
    if not value or "*" in value:
        return value
    try:
        parts = urlsplit(value if "://" in value else f"//{value}")
        host, _ = parts.hostname, parts.port  # a bad port raises
    except ValueError:
        return value
    return host.rstrip(".") if host else value


def saved_message(raw: str) -> str:
    """The toast after a domain was added: it names the domain when the input was cleaned."""
    cleaned = clean_domain(raw)
    if cleaned != (raw or "").strip().lower():
        return f"Domain authorized. Saved as {cleaned}."
    return "Domain authorized."


def origin_host(origin: str | None) -> str | None:
    """The normalized host of an `Origin` header (`https://Shop.example.com:8443`), or None."""
    if not origin or origin == "null":
        return None
    try:
        parts = urlsplit(origin.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    try:
        return normalize_domain(host)
    except FieldError:
        return None


def host_matches(host: str, domain: str) -> bool:
    """`shop.example.com` and `example.com` match `example.com`; `evilexample.com` does not."""
    return host == domain or host.endswith("." + domain)


def list_domains(session: Session, *, user: User, organization_id: int) -> list[AuthorizedDomain]:
    require_support_admin(session, user, organization_id, subscription=False)
    return _domains(session, organization_id)


def add_domain(
    session: Session, *, user: User, organization_id: int, domain: str
) -> AuthorizedDomain:
    require_support_admin(session, user, organization_id, subscription=False)
    try:
        name = normalize_domain(clean_domain(domain))
    except FieldError as exc:
        raise ValidationFailed({"domain": str(exc)}) from exc
    existing = _domains(session, organization_id)
    if any(d.domain == name for d in existing):
        raise Conflict(f"{name} is already an authorized domain.")
    if len(existing) >= MAX_DOMAINS:
        raise Conflict(f"An organization can authorize at most {MAX_DOMAINS} domains.")
    row = AuthorizedDomain(organization_id=organization_id, domain=name)
    session.add(row)
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="support.domain_added",
        summary=f"Authorized domain {name} added",
    )
    return row


def remove_domain(session: Session, *, user: User, organization_id: int, domain_id: int) -> None:
    require_support_admin(session, user, organization_id, subscription=False)
    row = organization_row(
        session, AuthorizedDomain, domain_id, organization_id, "Domain not found."
    )
    session.delete(row)
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="support.domain_removed",
        summary=f"Authorized domain {row.domain} removed",
    )


def authorize_origin(session: Session, *, slug: str, origin: str | None) -> Organization:
    """The organization behind a public slug, if the request's Origin may submit to it."""
    organization = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if organization is None:
        raise NotFound("Organization not found.")
    host = origin_host(origin)
    if host is None or not any(
        host_matches(host, d.domain) for d in _domains(session, organization.id)
    ):
        raise OriginNotAllowed()
    return organization


def _domains(session: Session, organization_id: int) -> list[AuthorizedDomain]:
    return list(
        session.exec(
            select(AuthorizedDomain)
            .where(AuthorizedDomain.organization_id == organization_id)
            .order_by(col(AuthorizedDomain.domain))
        )
    )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _suggestion(value: str) -> str:
    """The host someone most likely meant when they pasted a URL (`https://Shop.x.com/a`)."""
    candidate = value if "://" in value else f"//{value}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:
        host = None
    if host:
        try:
            return idna.decode(idna.encode(host, uts46=True)).lower()
        except (idna.IDNAError, UnicodeError):
            return host.lower()
    return EXAMPLE
