"""Organizations: create, read, edit, business details, settings, delete (SPEC §2)."""

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, col, delete, func, select, update

from orgportal.adapters import storage
from orgportal.adapters.billing import BillingGateway, gateway_from_settings
from orgportal.db import mark_access_changed, remove_after_commit
from orgportal.models import Membership, Organization, Role, StoredFile, User, UserSession
from orgportal.models.base import utcnow
from orgportal.services import (
    audit,
    billing,
    business_details,
    logos,
    organization_keys,
    usage_counters,
)
from orgportal.services.business_details import BusinessDetails
from orgportal.services.errors import NotFound, ValidationFailed
from orgportal.services.logos import validate_logo_url
from orgportal.services.permissions import Permission, membership_of, require
from orgportal.services.validation import FieldError, text

SLUG_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class OrganizationView:
    organization: Organization
    role: Role
    member_count: int


def make_slug(name: str) -> str:
    """`acme-marketing-team-x7y9z2`: readable base plus a random suffix, fixed at creation."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "org"
    suffix = "".join(secrets.choice(SLUG_ALPHABET) for _ in range(6))
    return f"{base}-{suffix}"


def _profile_fields(name: str, description: str, logo_url: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    checks = {
        "name": lambda: text(
            name, label="Organization Name", min_len=2, max_len=80, single_line=True
        ),
        "description": lambda: text(description, label="Description", max_len=500),
        "logo_url": lambda: validate_logo_url(logo_url),
    }
    for field, check in checks.items():
        try:
            clean[field] = check()
        except FieldError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return clean


def create_organization(
    session: Session, *, user: User, name: str, description: str = "", logo_url: str = ""
) -> Organization:
    organization_keys.refuse_service_account(session, user, "create organizations")
    fields = _profile_fields(name, description, logo_url)
    organization = Organization(slug=make_slug(fields["name"]), **fields)
    session.add(organization)
    session.flush()
    session.add(Membership(organization_id=organization.id, user_id=user.id, role=Role.OWNER))
    session.flush()
    usage_counters.resync(session, [user.id])  # a new organization has no paid plan yet
    audit.record(
        session,
        organization_id=organization.id,
        actor=user,
        action="organization.created",
        summary=f"Created organization {organization.name}",
    )
    return organization


def get_organization(session: Session, *, user: User, organization_id: int) -> OrganizationView:
    organization, membership = require(session, user, organization_id, Permission.VIEW)
    return OrganizationView(
        organization, Role(membership.role), member_count(session, organization_id)
    )


def listed_organization(session: Session, *, user: User, organization_id: int) -> OrganizationView:
    """One entry of the user's own list of workspaces (name, role, member count). Like the
    workspace switcher, the list is never refused by an organization's Security settings:
    it says where the user is a member, so they can switch there and meet its gate."""
    membership = membership_of(session, user, organization_id)
    organization = session.get(Organization, organization_id) if membership else None
    if membership is None or organization is None:
        raise NotFound("Organization not found.")
    return OrganizationView(
        organization, Role(membership.role), member_count(session, organization_id)
    )


def member_count(session: Session, organization_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id)
    ).one()


def update_profile(
    session: Session,
    *,
    user: User,
    organization_id: int,
    name: str,
    description: str,
    logo_url: str,
) -> Organization:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    fields = _profile_fields(name, description, logo_url)
    changed = [k for k, v in fields.items() if getattr(organization, k) != v]
    if not changed:
        return organization
    old_name = organization.name
    for key in changed:
        setattr(organization, key, fields[key])
    _touch(session, organization)
    summary = f"Updated {', '.join(changed)}"
    if "name" in changed:
        summary += f" (renamed from {old_name} to {organization.name})"
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="organization.updated",
        summary=summary,
    )
    return organization


def update_business_details(
    session: Session, *, user: User, organization_id: int, details: BusinessDetails
) -> Organization:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    clean = business_details.validate(details)
    before = BusinessDetails.of(organization).as_dict()
    changed = [k for k, v in clean.as_dict().items() if before[k] != v]
    for key in changed:
        setattr(organization, key, getattr(clean, key))
    if changed:
        _touch(session, organization)
        audit.record(
            session,
            organization_id=organization_id,
            actor=user,
            action="organization.business_details_updated",
            summary=f"Updated business details: {', '.join(changed)}",
        )
    return organization


@dataclass(frozen=True)
class OrganizationSettings:
    allow_members_to_invite: bool = False
    require_approval_for_links: bool = False
    default_attribution_window: int = 168


def update_settings(
    session: Session, *, user: User, organization_id: int, new: OrganizationSettings
) -> Organization:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    if not 1 <= new.default_attribution_window <= 8760:
        raise ValidationFailed(
            {"default_attribution_window": "Enter a number of hours between 1 and 8760."}
        )
    changed = [
        f"{k}={getattr(new, k)}"
        for k in OrganizationSettings.__dataclass_fields__
        if getattr(organization, k) != getattr(new, k)
    ]
    if changed:
        for key in OrganizationSettings.__dataclass_fields__:
            setattr(organization, key, getattr(new, key))
        _touch(session, organization)
        audit.record(
            session,
            organization_id=organization_id,
            actor=user,
            action="organization.settings_updated",
            summary=f"Changed settings: {', '.join(changed)}",
        )
    return organization


def delete_organization(
    session: Session,
    *,
    user: User,
    organization_id: int,
    confirm_name: str,
    gateway: BillingGateway | None = None,
) -> None:
    """Owner only, after typing the exact name. Everything the organization holds goes too,
    and its subscriptions are canceled at Stripe first (`gateway`: by default the site's)."""
    organization, _ = require(session, user, organization_id, Permission.DELETE_ORGANIZATION)
    if confirm_name != organization.name:
        raise ValidationFailed({"confirm_name": "Type the organization name exactly to confirm."})
    remove(session, organization, actor=user, gateway=gateway or gateway_from_settings(session))


def remove(
    session: Session, organization: Organization, *, actor: User, gateway: BillingGateway
) -> None:
    """Delete an organization with everything it holds, its subscriptions canceled at Stripe
    first: the Owner's delete, and an unconfirmed account's organizations when its address
    is proven by someone else (`unconfirmed.reclaim`). No permission check here."""
    organization_id = organization.id
    billing.cancel_all(session, gateway, organization_id=organization_id)
    audit.record(
        session,
        organization_id=organization_id,
        actor=actor,
        action="organization.deleted",
        summary=f"Deleted organization {organization.name}",
    )
    session.exec(
        update(UserSession)
        .where(col(UserSession.active_org_id) == organization_id)
        .values(active_org_id=None)
    )
    file_keys, logo_keys = _stored_bytes(session, organization)
    remove_after_commit(session, storage.files(), file_keys)
    remove_after_commit(session, storage.logos(), logo_keys)
    members = session.exec(
        select(Membership.user_id).where(Membership.organization_id == organization_id)
    ).all()
    session.exec(delete(Membership).where(col(Membership.organization_id) == organization_id))
    organization_keys.delete_for_organization(session, organization_id)
    usage_counters.resync(session, members)  # their personal items leave its pool
    session.delete(organization)  # its counter goes with it (ON DELETE CASCADE)
    mark_access_changed(session, [organization_id])  # cached API callers and usage go


def _stored_bytes(session: Session, organization: Organization) -> tuple[list[str], list[str]]:
    """The stored bytes that die with the organization: its My Files, and its uploaded logo
    unless another organization shows the same one (keys of the files and logos stores)."""
    keys = session.exec(
        select(StoredFile.storage_key).where(StoredFile.organization_id == organization.id)
    ).all()
    logo = logos.key_for_url(organization.logo_url)
    others = select(Organization.id).where(
        Organization.logo_url == organization.logo_url, Organization.id != organization.id
    )
    if logo is None or session.exec(others).first() is not None:
        return list(keys), []
    return list(keys), [logo]


def _touch(session: Session, organization: Organization) -> None:
    organization.updated_at = utcnow()
    session.add(organization)
