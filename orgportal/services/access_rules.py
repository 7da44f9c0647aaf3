"""What an organization's Security settings (SPEC §13) ask of its members, and the check.

`permissions.require` runs `check_member` for every permission check, so this module sits
below the permission layer: it imports models and plain helpers only, never a service that
checks permissions (`org_security` edits the settings on top of it).
"""

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from sqlmodel import Session, select

from orgportal.models import (
    Organization,
    OrganizationApiKey,
    OrganizationSecurity,
    Passkey,
    TwoFactor,
    User,
)
from orgportal.services import plans
from orgportal.services.client_address import current as current_address
from orgportal.services.client_address import current_is_api
from orgportal.services.errors import PermissionDenied, ValidationFailed
from orgportal.session_memo import remembered

MAX_ENTRIES = 100
Network = IPv4Network | IPv6Network


class AccessRefused(PermissionDenied):
    """This organization refuses the caller: `reason` is "two_factor" or "address"."""

    def __init__(self, reason: str, organization: Organization, address: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.organization_id = organization.id
        self.organization_name = organization.name
        self.address = address


# --- the allowlist -------------------------------------------------------------------------


def parse_allowlist(raw: str) -> list[Network]:
    """IPv4/IPv6 addresses and CIDR ranges, one per line (or comma-separated). Refuses the
    whole list, naming the entry, when one is not valid; duplicates are dropped."""
    entries = [part.strip() for line in (raw or "").splitlines() for part in line.split(",")]
    entries = [entry for entry in entries if entry]
    networks: list[Network] = []
    for entry in entries:
        try:
            network = ip_network(entry.removeprefix("[").removesuffix("]"), strict=True)
        except ValueError:
            try:
                loose = ip_network(entry, strict=False)
            except ValueError:
                raise ValidationFailed(
                    {"ip_allowlist": f"“{entry}” is not an IP address or CIDR range."}
                ) from None
            raise ValidationFailed(
                {"ip_allowlist": f"“{entry}” has bits set after the prefix; did you mean {loose}?"}
            ) from None
        if network not in networks:
            networks.append(network)
    if len(networks) > MAX_ENTRIES:
        raise ValidationFailed({"ip_allowlist": f"At most {MAX_ENTRIES} entries."})
    return networks


def format_allowlist(networks: list[Network]) -> str:
    """One per line; a single address without its /32 or /128."""
    return "\n".join(
        str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n) for n in networks
    )


def address_allowed(address: str, networks: list[Network]) -> bool:
    """Is `address` in one of `networks`? An empty list allows every address; an address
    that does not parse is never allowed. `::ffff:a.b.c.d` counts as `a.b.c.d`."""
    if not networks:
        return True
    try:
        ip = ip_address(address.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


# --- enforcement ---------------------------------------------------------------------------


def security_row(session: Session, organization_id: int) -> OrganizationSecurity | None:
    return remembered(
        session,
        ("security", organization_id),
        lambda: session.get(OrganizationSecurity, organization_id),
    )


def is_available(session: Session, organization: Organization) -> bool:
    return plans.SECURITY in plans.organization_plan(session, organization).features


@dataclass(frozen=True)
class AccessRule:
    """What an organization's Security settings ask of one member, read once: the allowlist
    (empty: every address) and whether the member still lacks two-factor sign-in that the
    organization requires. The REST API caches it per key and organization."""

    organization: Organization
    networks: tuple[Network, ...]
    two_factor_missing: bool


def check_member(session: Session, *, user: User, organization: Organization) -> None:
    """`check_access` for a member already looked up (`permissions.require` calls it for
    every permission check), at the address of the running use case
    (`client_address.current`): whatever organization owns the object a service reads or
    writes, its rule holds, whichever workspace is active and whichever door (page event,
    REST call, download) the call came through."""
    row = security_row(session, organization.id)
    if row is None or not (row.require_two_factor or row.ip_allowlist):
        return
    rule = member_rule(session, user, organization, row)
    if rule is not None:
        enforce(rule, user=user, address=current_address(), api=current_is_api())


def member_rule(
    session: Session, user: User, organization: Organization, row: OrganizationSecurity
) -> AccessRule | None:
    if not is_available(session, organization):
        return None
    return AccessRule(
        organization=organization,
        networks=tuple(parse_allowlist(row.ip_allowlist)),
        # an organization API key has no person to sign in: the allowlist alone holds it
        two_factor_missing=row.require_two_factor
        and not _two_factor_on(session, user.id)
        and not _is_organization_key(session, user),
    )


def enforce(rule: AccessRule, *, user: User, address: str, api: bool = False) -> None:
    """Refuse the address first (it says where to connect from), then missing two-factor."""
    organization = rule.organization
    if not address_allowed(address, list(rule.networks)):
        raise AccessRefused(
            "address",
            organization,
            address,
            f"{organization.name} accepts connections only from its IP allowlist, and your "
            f"address {address} is not on it.",
        )
    if rule.two_factor_missing:
        raise AccessRefused(
            "two_factor",
            organization,
            address,
            f"{organization.name} requires two-factor sign-in. "
            + (
                f"API keys of {user.email} work for it once that account turns two-factor "
                "sign-in on (account page)."
                if api
                else "Set it up on your account page to continue."
            ),
        )


def _two_factor_on(session: Session, user_id: int) -> bool:
    """`two_factor.is_enabled`, read here: that module builds on the permission layer. An
    authenticator app or a passkey (SPEC §16) satisfies the requirement."""
    row = session.get(TwoFactor, user_id)
    if row is not None and row.enabled_at is not None:
        return True
    return session.exec(select(Passkey.id).where(Passkey.user_id == user_id)).first() is not None


def _is_organization_key(session: Session, user: User) -> bool:
    """Whether `user` is an organization API key's own user (`organization_keys`)."""
    found = select(OrganizationApiKey.id).where(OrganizationApiKey.service_user_id == user.id)
    return session.exec(found).first() is not None
