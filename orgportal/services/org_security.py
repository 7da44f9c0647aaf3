"""An organization's Security settings (SPEC §13): require two-factor sign-in, IP allowlist.

Owner/Admin edit them on plans with the `security` feature (Professional, Unlimited). They
are enforced by `check_access`, which the state core runs for every page and event of the
active organization and the REST API for every call about an organization: a member without
two-factor sign-in is sent to set it up, a client outside the allowlist is refused. Other
workspaces are unaffected. On a plan without the feature the settings are kept but neither
shown as editable nor enforced.
"""

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from sqlmodel import Session

from orgportal.db import mark_access_changed
from orgportal.models import Organization, OrganizationSecurity, User
from orgportal.models.base import utcnow
from orgportal.services import audit, plans, two_factor
from orgportal.services.client_address import current as current_address
from orgportal.services.client_address import current_is_api
from orgportal.services.errors import Conflict, PermissionDenied, ValidationFailed
from orgportal.services.permissions import Permission, membership_of, require

MAX_ENTRIES = 100
Network = IPv4Network | IPv6Network


class FeatureLocked(PermissionDenied):
    def __init__(self) -> None:
        names = " and ".join(plan.name for plan in plans.plans_with(plans.SECURITY))
        super().__init__(
            "Security settings (require two-factor sign-in, IP allowlist) are available on "
            f"the {names} plans."
        )


class AccessRefused(PermissionDenied):
    """This organization refuses the caller: `reason` is "two_factor" or "address"."""

    def __init__(self, reason: str, organization: Organization, address: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.organization_id = organization.id
        self.organization_name = organization.name
        self.address = address


class OwnAddressExcluded(Conflict):
    """Saving would refuse the editor's own address: needs `confirm_own_address`."""

    def __init__(self, address: str):
        super().__init__(
            f"Your current address {address} is not on this list: once saved, you could not "
            "open this organization from here. Confirm to save anyway."
        )
        self.address = address


@dataclass(frozen=True)
class SecuritySettings:
    available: bool
    locked_reason: str
    require_two_factor: bool
    ip_allowlist: str  # one entry per line, as stored


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


# --- settings ------------------------------------------------------------------------------


def _row(session: Session, organization_id: int) -> OrganizationSecurity | None:
    return session.get(OrganizationSecurity, organization_id)


def is_available(session: Session, organization: Organization) -> bool:
    return plans.SECURITY in plans.organization_plan(session, organization).features


def get_settings(session: Session, *, user: User, organization_id: int) -> SecuritySettings:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return _settings(session, organization)


def _settings(session: Session, organization: Organization) -> SecuritySettings:
    row = _row(session, organization.id)
    available = is_available(session, organization)
    return SecuritySettings(
        available=available,
        locked_reason="" if available else FeatureLocked().message,
        require_two_factor=bool(row and row.require_two_factor),
        ip_allowlist=row.ip_allowlist if row else "",
    )


def update_settings(
    session: Session,
    *,
    user: User,
    organization_id: int,
    require_two_factor: bool,
    ip_allowlist: str,
    client_address: str,
    confirm_own_address: bool = False,
) -> SecuritySettings:
    """Owner/Admin, on a plan with the feature. A list that would refuse the editor's own
    `client_address` is saved only with `confirm_own_address`."""
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    if not is_available(session, organization):
        raise FeatureLocked()
    networks = parse_allowlist(ip_allowlist)
    if not confirm_own_address and not address_allowed(client_address, networks):
        raise OwnAddressExcluded(client_address)
    row = _row(session, organization_id) or OrganizationSecurity(organization_id=organization_id)
    new_list = format_allowlist(networks)
    if row.require_two_factor != require_two_factor:
        audit.record(
            session,
            organization_id=organization_id,
            actor=user,
            action="security.two_factor_requirement_changed",
            summary="Two-factor sign-in "
            + ("required for all members" if require_two_factor else "no longer required"),
        )
    if row.ip_allowlist != new_list:
        audit.record(
            session,
            organization_id=organization_id,
            actor=user,
            action="security.ip_allowlist_changed",
            summary=f"IP allowlist: {', '.join(new_list.splitlines())}"
            if new_list
            else "IP allowlist cleared (every address allowed)",
        )
    row.require_two_factor, row.ip_allowlist, row.updated_at = (
        require_two_factor,
        new_list,
        utcnow(),
    )
    session.add(row)
    mark_access_changed(session, [organization_id])  # cached API callers
    # Not `get_settings`: a list saved with "Save anyway", or a requirement the editor does
    # not meet yet, refuses the editor from now on, and that must not undo the save.
    return _settings(session, organization)


# --- enforcement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRule:
    """What an organization's Security settings ask of one member, read once: the allowlist
    (empty: every address) and whether the member still lacks two-factor sign-in that the
    organization requires. The REST API caches it per key and organization."""

    organization: Organization
    networks: tuple[Network, ...]
    two_factor_missing: bool


def check_access(
    session: Session, *, user: User, organization_id: int | None, address: str, api: bool = False
) -> None:
    """Refuse `user` at `address` for `organization_id` when its Security settings say so.
    The Personal Workspace, organizations the user is not in (their own checks answer
    those), and organizations without the plan feature are never refused here."""
    rule = access_rule(session, user=user, organization_id=organization_id)
    if rule is not None:
        enforce(rule, user=user, address=address, api=api)


def access_rule(
    session: Session, *, user: User, organization_id: int | None
) -> AccessRule | None:
    """The rule `check_access` applies, or None when nothing is enforced for this user here."""
    if organization_id is None:
        return None
    row = _row(session, organization_id)
    if row is None or not (row.require_two_factor or row.ip_allowlist):
        return None
    organization = session.get(Organization, organization_id)
    if organization is None or membership_of(session, user, organization_id) is None:
        return None
    return _rule(session, user, organization, row)


def check_member(session: Session, *, user: User, organization: Organization) -> None:
    """`check_access` for a member already looked up (`permissions.require` calls it for
    every permission check), at the address of the running use case
    (`client_address.current`): whatever organization owns the object a service reads or
    writes, its rule holds, whichever workspace is active and whichever door (page event,
    REST call, download) the call came through."""
    row = _row(session, organization.id)
    if row is None or not (row.require_two_factor or row.ip_allowlist):
        return
    rule = _rule(session, user, organization, row)
    if rule is not None:
        enforce(rule, user=user, address=current_address(), api=current_is_api())


def _rule(
    session: Session, user: User, organization: Organization, row: OrganizationSecurity
) -> AccessRule | None:
    if not is_available(session, organization):
        return None
    return AccessRule(
        organization=organization,
        networks=tuple(parse_allowlist(row.ip_allowlist)),
        # an organization API key has no person to sign in: the allowlist alone holds it
        two_factor_missing=row.require_two_factor
        and not two_factor.is_enabled(session, user.id)
        and not _is_organization_key(session, user),
    )


def _is_organization_key(session: Session, user: User) -> bool:
    from orgportal.services import organization_keys  # it builds on permissions, as we do

    return organization_keys.is_service_account(session, user)


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
