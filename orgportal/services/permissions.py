"""The role/permission table of SPEC §3, as data, and the one check every service calls."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from sqlmodel import Session, select

from orgportal.models import Membership, Organization, Role, User
from orgportal.services import access_rules
from orgportal.services.errors import NotFound, PermissionDenied
from orgportal.session_memo import remembered


class Permission(StrEnum):
    VIEW = "view"
    EDIT_ORGANIZATION = "edit_organization"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_BILLING = "manage_billing"
    MANAGE_SUPPORT = "manage_support"
    HANDLE_TICKETS = "handle_tickets"
    CREATE_ITEMS = "create_items"
    VIEW_AUDIT_LOG = "view_audit_log"
    DELETE_ORGANIZATION = "delete_organization"
    TRANSFER_OWNERSHIP = "transfer_ownership"
    # Reading the plan, subscription and seats: every member may; an organization API key
    # only with its "Billing (read)" scope (services/organization_keys.py).
    VIEW_BILLING = "view_billing"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(P),
    Role.ADMIN: frozenset(
        {
            P.VIEW,
            P.VIEW_BILLING,
            P.EDIT_ORGANIZATION,
            P.MANAGE_MEMBERS,
            P.MANAGE_SUPPORT,
            P.HANDLE_TICKETS,
            P.CREATE_ITEMS,
            P.VIEW_AUDIT_LOG,
        }
    ),
    Role.BILLING_ADMIN: frozenset({P.VIEW, P.VIEW_BILLING, P.MANAGE_BILLING, P.CREATE_ITEMS}),
    Role.AGENT: frozenset({P.VIEW, P.VIEW_BILLING, P.HANDLE_TICKETS, P.CREATE_ITEMS}),
    Role.VIEWER: frozenset({P.VIEW, P.VIEW_BILLING}),
}

# Roles an inviter may hand out; Owner is never granted by invite or role change.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER)


def has_permission(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]


def invite_roles(role: Role | str, organization: Organization) -> tuple[Role, ...]:
    """The roles a member with `role` may invite: Owner/Admin any assignable role; Agents
    only Agents, and only when the organization allows members to invite (SPEC §3)."""
    if has_permission(role, Permission.MANAGE_MEMBERS):
        return ASSIGNABLE_ROLES
    if role == Role.AGENT and organization.allow_members_to_invite:
        return (Role.AGENT,)
    return ()


@dataclass(frozen=True)
class Capabilities:
    """What one viewer may do in one organization: computed here, only displayed by pages."""

    role: str = ""
    edit_organization: bool = False
    manage_members: bool = False
    invite_roles: tuple[str, ...] = ()
    manage_billing: bool = False
    manage_support: bool = False
    handle_tickets: bool = False
    create_items: bool = False
    view_audit_log: bool = False
    delete_organization: bool = False
    transfer_ownership: bool = False
    manage_projects: bool = False  # create, rename, delete projects (SPEC §14)
    approve_links: bool = False  # the Approval queue (require_approval_for_links)


def capabilities(session: Session, user: User, organization_id: int | None) -> Capabilities:
    """The viewer's capabilities in an organization; none for a non-member. In the Personal
    Workspace the user creates items and nothing else applies."""
    if organization_id is None:
        return Capabilities(create_items=True, manage_projects=True)
    membership = membership_of(session, user, organization_id)
    organization = organization_by_id(session, organization_id) if membership else None
    if membership is None or organization is None:
        return Capabilities()
    role = membership.role
    return Capabilities(
        role=role,
        edit_organization=has_permission(role, P.EDIT_ORGANIZATION),
        manage_members=has_permission(role, P.MANAGE_MEMBERS),
        invite_roles=tuple(r.value for r in invite_roles(role, organization)),
        manage_billing=has_permission(role, P.MANAGE_BILLING),
        manage_support=has_permission(role, P.MANAGE_SUPPORT),
        handle_tickets=has_permission(role, P.HANDLE_TICKETS),
        create_items=has_permission(role, P.CREATE_ITEMS),
        view_audit_log=has_permission(role, P.VIEW_AUDIT_LOG),
        delete_organization=has_permission(role, P.DELETE_ORGANIZATION),
        transfer_ownership=has_permission(role, P.TRANSFER_OWNERSHIP),
        manage_projects=has_permission(role, P.EDIT_ORGANIZATION),
        approve_links=has_permission(role, P.EDIT_ORGANIZATION),
    )


def membership_of(session: Session, user: User, organization_id: int) -> Membership | None:
    """The user's membership; for an organization API key's own user, its standing in its
    organization (a Membership never stored: `organization_keys.membership`)."""
    row = remembered(
        session,
        ("membership", organization_id, user.id),
        lambda: session.exec(
            select(Membership).where(
                Membership.organization_id == organization_id, Membership.user_id == user.id
            )
        ).first(),
    )
    if row is not None:
        return row
    from orgportal.services import organization_keys  # it builds on this module

    return organization_keys.membership(session, user, organization_id)


def organization_by_id(session: Session, organization_id: int) -> Organization | None:
    """`session.get`, kept for the rest of the unit of work (`session_memo`)."""
    return remembered(
        session,
        ("organization", organization_id),
        lambda: session.get(Organization, organization_id),
    )


def require(
    session: Session, user: User, organization_id: int, permission: Permission
) -> tuple[Organization, Membership]:
    """The organization and the user's membership, or a refusal: NotFound, PermissionDenied
    for the role, or `access_rules.AccessRefused` when the organization's Security settings
    refuse the user at the running use case's address.

    Non-members get NotFound rather than PermissionDenied so that probing ids tells an
    outsider nothing about which organizations exist.

    The one other place these checks run is the REST API's cached reads, which answer
    without a database session: `services/api_callers.py` keeps each caller's membership,
    key scopes and Security rule (`org_security.AccessRule`, read here too) and applies
    them on every request, in this order. A change to the checks here belongs there too.
    """
    membership = membership_of(session, user, organization_id)
    organization = session.get(Organization, organization_id) if membership else None
    if membership is None or organization is None:
        raise NotFound("Organization not found.")
    if membership.id is None:  # an organization API key: its scopes decide, not a role
        from orgportal.services import organization_keys

        refused = organization_keys.refusal(session, user, organization_id, permission)
        if refused is not None:
            raise refused
    elif not has_permission(membership.role, permission):
        raise PermissionDenied(
            f"Your role ({Role(membership.role).label}) does not allow this action."
        )
    # The organization's Security settings (SPEC §13) hold for every use of it, not only
    # for the active workspace.
    access_rules.check_member(session, user=user, organization=organization)
    return organization, membership


def owner_of(session: Session, organization_id: int) -> User | None:
    """The organization's Owner (the one who hears when something of it stops working)."""
    return session.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id, Membership.role == Role.OWNER)
    ).first()


def require_workspace(
    session: Session, user: User, organization_id: int | None, permission: Permission
) -> None:
    """A workspace check: the Personal Workspace (None) is always the user's own; in an
    organization the role table decides."""
    if organization_id is not None:
        require(session, user, organization_id, permission)


class OrganizationItem(Protocol):
    """A row that belongs to one organization (or, where None is allowed, to no organization)."""

    @property
    def organization_id(self) -> int | None: ...


class WorkspaceItem(OrganizationItem, Protocol):
    """A thing of one workspace: an organization's (`organization_id`), or else its owner's."""

    @property
    def owner_id(self) -> int: ...


Item = TypeVar("Item", bound=WorkspaceItem)
Row = TypeVar("Row", bound=OrganizationItem)


def organization_row(
    session: Session, model: type[Row], row_id: int, organization_id: int | None, missing: str
) -> Row:
    """The `model` row `row_id` if it belongs to this organization, else NotFound(`missing`):
    another organization's id reads exactly as one that does not exist. The caller has
    checked the viewer's permission in the organization first."""
    row = session.get(model, row_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(missing)
    return row


def require_readable(session: Session, user: User, item: Item | None, missing: str) -> Item:
    """`item` if the user may read it: their own personal one, or one of an organization they
    are a member of (every role may view; the organization's Security settings, SPEC §13,
    still apply). Otherwise NotFound(`missing`), the very refusal of an id that does not
    exist, so probing ids tells nothing about other workspaces."""
    if item is None:
        raise NotFound(missing)
    if item.organization_id is None:
        if item.owner_id != user.id:
            raise NotFound(missing)
        return item
    try:
        require(session, user, item.organization_id, Permission.VIEW)
    except NotFound:
        raise NotFound(missing) from None
    return item


def in_workspace(item: WorkspaceItem, user: User, organization_id: int | None) -> bool:
    """Whether `item` belongs to this workspace: the organization's, or in the Personal
    Workspace (None) the user's own (`usage.in_workspace` is the same rule as a query)."""
    if item.organization_id != organization_id:
        return False
    return organization_id is not None or item.owner_id == user.id


def may_delete(item: WorkspaceItem, user: User, role: str) -> bool:
    """Who may delete a link or file (SPEC §3): its creator; in an organization, the Owner and
    Admins too. `role` is the user's role in the item's organization ("" for none). The
    delete services enforce it (`require_changeable`); lists show it per row."""
    if item.owner_id == user.id:
        return True
    return (
        item.organization_id is not None
        and bool(role)
        and has_permission(role, Permission.EDIT_ORGANIZATION)
    )


def require_changeable(
    session: Session,
    user: User,
    organization_id: int | None,
    model: type[Item],
    item_id: int,
    *,
    missing: str,
    denied: str,
) -> Item:
    """The `model` row `item_id` of the workspace that `user` may change or delete
    (`may_delete`), else NotFound(`missing`) or PermissionDenied(`denied`). The workspace is
    checked before the item is looked up, so another workspace's id reads as missing."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    item = session.get(model, item_id)
    if item is None or not in_workspace(item, user, organization_id):
        raise NotFound(missing)
    if organization_id is not None:
        _, membership = require(session, user, organization_id, Permission.VIEW)
        if membership.id is None:  # an organization API key changes items with "links" only
            require(session, user, organization_id, Permission.CREATE_ITEMS)
        if not may_delete(item, user, membership.role):
            raise PermissionDenied(denied)
    return item
