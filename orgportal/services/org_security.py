"""An organization's Security settings (SPEC §13): require two-factor sign-in, IP allowlist.

Owner/Admin edit them on plans with the `security` feature (Professional, Unlimited). They
are enforced by `check_access`, which the state core runs for every page and event of the
active organization and the REST API for every call about an organization: a member without
two-factor sign-in is sent to set it up, a client outside the allowlist is refused. Other
workspaces are unaffected. On a plan without the feature the settings are kept but neither
shown as editable nor enforced.
"""

from dataclasses import dataclass

from sqlmodel import Session

from orgportal.db import mark_access_changed
from orgportal.models import Organization, OrganizationSecurity, User
from orgportal.models.base import utcnow
from orgportal.services import audit, plans
from orgportal.services.access_rules import (  # noqa: F401  (this module's public names too)
    MAX_ENTRIES,
    AccessRefused,
    AccessRule,
    Network,
    address_allowed,
    check_member,
    enforce,
    format_allowlist,
    is_available,
    member_rule,
    parse_allowlist,
    security_row,
)
from orgportal.services.errors import Conflict, PermissionDenied
from orgportal.services.permissions import Permission, membership_of, require


class FeatureLocked(PermissionDenied):
    def __init__(self) -> None:
        names = " and ".join(plan.name for plan in plans.plans_with(plans.SECURITY))
        super().__init__(
            "Security settings (require two-factor sign-in, IP allowlist) are available on "
            f"the {names} plans."
        )


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


# --- settings ------------------------------------------------------------------------------


def get_settings(session: Session, *, user: User, organization_id: int) -> SecuritySettings:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return _settings(session, organization)


def _settings(session: Session, organization: Organization) -> SecuritySettings:
    row = security_row(session, organization.id)
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
    row = security_row(session, organization_id) or OrganizationSecurity(organization_id=organization_id)
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


# --- enforcement (the rule itself: `access_rules`) -------------------------------------------


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
    row = security_row(session, organization_id)
    if row is None or not (row.require_two_factor or row.ip_allowlist):
        return None
    organization = session.get(Organization, organization_id)
    if organization is None or membership_of(session, user, organization_id) is None:
        return None
    return member_rule(session, user, organization, row)


