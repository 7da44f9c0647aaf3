"""Short links (SPEC §7): create within the pool's limit, list, delete, resolve."""

import re
import secrets
import string

from sqlmodel import Session, col, func, select

from orgportal import routes
from orgportal.db import mark_usage_changed
from orgportal.models import Link, User
from orgportal.services import usage
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.permissions import (
    Permission,
    require,
    require_workspace,
)
from orgportal.services.validation import FieldError, http_url

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
RANDOM_ALPHABET = string.ascii_lowercase + string.digits
# First path segments the app uses or will use: a short link may never shadow a page.
RESERVED = routes.RESERVED_SEGMENTS


def create_link(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    target_url: str,
    slug: str = "",
) -> Link:
    require_workspace(session, user, organization_id, Permission.CREATE_ITEMS)
    errors: dict[str, str] = {}
    try:
        target = http_url(target_url)
        if len(target) > 2048:
            raise FieldError("The address must be at most 2048 characters.")
    except FieldError as exc:
        errors["target_url"] = str(exc)
    slug = slug.strip().lower()
    if slug and (not SLUG_PATTERN.match(slug) or slug in RESERVED):
        errors["slug"] = (
            f"“{slug}” is reserved." if slug in RESERVED else
            "Use 3–64 lower-case letters, digits or dashes (not at the start or end)."
        )  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    pool = usage.pool_for(session, user=user, organization_id=organization_id)
    usage.reserve(session, pool, links=1)
    if slug and _slug_taken(session, slug):
        raise Conflict(f"The short link /{slug} is already taken.")
    link = Link(
        organization_id=organization_id,
        owner_id=user.id,
        slug=slug or _random_slug(session),
        target_url=target,
    )
    session.add(link)
    session.flush()
    mark_usage_changed(session, [pool.organization_id])
    return link


def list_links(
    session: Session, *, user: User, organization_id: int | None, limit: int = 50, offset: int = 0
) -> tuple[list[Link], int]:
    """One page of the workspace's links, newest first, and the total count."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    where = usage.in_workspace(Link, user, organization_id)
    total = session.exec(select(func.count()).select_from(Link).where(where)).one()
    rows = session.exec(
        select(Link).where(where).order_by(col(Link.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def delete_link(session: Session, *, user: User, organization_id: int | None, link_id: int) -> Link:
    """The creator may delete; in an organization, Owners and Admins may too. The workspace
    is checked before the link is looked up, so another workspace's id reads as missing."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    link = session.get(Link, link_id)
    if link is None or link.organization_id != organization_id:
        raise NotFound("Link not found.")
    if organization_id is None:
        if link.owner_id != user.id:
            raise NotFound("Link not found.")
    else:
        _, membership = require(session, user, organization_id, Permission.VIEW)
        if not usage.may_delete(link, user, membership.role):
            raise PermissionDenied("Only its creator, an Admin or the Owner can delete this link.")
    session.delete(link)
    session.flush()
    mark_usage_changed(
        session,
        usage.affected_organizations(
            session, owner_id=link.owner_id, organization_id=organization_id
        ),
    )
    return link


def resolve(session: Session, slug: str) -> str | None:
    """Where /l/{slug} (or /{slug}) goes, or None."""
    link = session.exec(select(Link).where(Link.slug == slug.lower())).first()
    return link.target_url if link else None


def _slug_taken(session: Session, slug: str) -> bool:
    return session.exec(select(Link.id).where(Link.slug == slug)).first() is not None


def _random_slug(session: Session) -> str:
    while True:
        slug = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(7))
        if slug not in RESERVED and not _slug_taken(session, slug):
            return slug
