"""Short links (SPEC §7): create within the pool's limit, list, delete, resolve."""

import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select

from orgportal import routes
from orgportal.db import mark_personal_usage_changed, mark_usage_changed
from orgportal.models import ClickRollup, Link, User
from orgportal.models.analytics import TOTAL
from orgportal.models.base import utcnow
from orgportal.services import (
    custom_domains,
    link_approval,
    projects,
    usage,
    usage_counters,
    webhooks,
)
from orgportal.services.errors import Conflict, ValidationFailed
from orgportal.services.paging import one_page
from orgportal.services.permissions import (
    Permission,
    require_changeable,
    require_workspace,
)
from orgportal.services.validation import FieldError, http_url

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
RANDOM_ALPHABET = string.ascii_lowercase + string.digits
# First path segments the app uses or will use: a short link may never shadow a page.
RESERVED = routes.RESERVED_SEGMENTS
NO_PROJECT = 0  # list_links(project_id=NO_PROJECT): the links in no project


def create_link(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    target_url: str,
    slug: str = "",
    project_id: int | None = None,
    custom_domain_id: int | None = None,
    append_click_id: bool = False,
) -> Link:
    """`project_id`: a project of the same workspace, or None. With the organization's
    `require_approval_for_links` on, an Agent's or Billing Admin's link starts pending.
    `custom_domain_id`: a verified domain of the organization (SPEC §15), or None.
    `append_click_id`: its redirects append `op_click=<click id>` (SPEC §14, conversion
    attribution; its creator may switch that later with `clicks.set_append_click_id`)."""
    require_workspace(session, user, organization_id, Permission.CREATE_ITEMS)
    domain = custom_domains.link_domain(
        session, organization_id=organization_id, custom_domain_id=custom_domain_id
    )
    project = projects.project_for_link(
        session, user=user, organization_id=organization_id, project_id=project_id
    )
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
        project_id=project.id if project else None,
        pending_approval=link_approval.starts_pending(session, user, organization_id),
        custom_domain_id=domain.id if domain else None,
        append_click_id=append_click_id,
    )
    session.add(link)
    session.flush()
    usage_counters.count_item(session, organization_id=organization_id, owner_id=user.id, links=1)
    mark_usage_changed(session, [pool.organization_id])
    mark_personal_usage_changed(session, [pool.user_id])
    webhooks.emit(session, organization_id, "link.created", {"link_id": link.id, "slug": link.slug, "target_url": link.target_url, "pending_approval": link.pending_approval, "created_by": user.email})
    if link.pending_approval:
        link_approval.announce(session, organization_id)
    return link


def list_links(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    limit: int = 50,
    offset: int = 0,
    project_id: int | None = None,
) -> tuple[list[Link], int]:
    """One page of the workspace's links, newest first, and the total count. `project_id`
    filters by project (NO_PROJECT: links in none); another workspace's project is refused."""
    where = _listing(session, user, organization_id, project_id)
    return one_page(session, Link, where, order_by=(col(Link.id).desc(),), limit=limit, offset=offset)


@dataclass(frozen=True)
class ListedLink:
    """A link of the Links table with its clicks (bots never count), from the daily rollups."""

    link: Link
    clicks: int  # all time
    clicks_7_days: int  # today and the six days before it (UTC days, as the rollups)


def list_links_with_clicks(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    limit: int = 50,
    offset: int = 0,
    project_id: int | None = None,
) -> tuple[list[ListedLink], int]:
    """`list_links`, each link with its clicks of all time and of the last 7 days. The page's
    rows and their counts come in one query (a correlated sum per row over the rollups'
    `(link_id, dimension, day)` key), however many rows the page has."""
    where = _listing(session, user, organization_id, project_id)
    total = session.exec(select(func.count()).select_from(Link).where(where)).one()
    since = utcnow().date() - timedelta(days=6)
    counted = and_(ClickRollup.link_id == Link.id, ClickRollup.dimension == TOTAL)
    all_time = select(func.coalesce(func.sum(ClickRollup.clicks), 0)).where(counted)
    recent = select(
        func.coalesce(
            func.sum(case((col(ClickRollup.day) >= since, ClickRollup.clicks), else_=0)), 0
        )
    ).where(counted)
    rows = session.exec(
        select(
            Link,
            all_time.scalar_subquery().correlate(Link),
            recent.scalar_subquery().correlate(Link),
        )
        .where(where)
        .order_by(col(Link.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [ListedLink(link, int(a or 0), int(r or 0)) for link, a, r in rows], int(total)


def _listing(session: Session, user: User, organization_id: int | None, project_id: int | None):
    """The filter of a workspace's Links list, once the viewer may see it."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    where = usage.in_workspace(Link, user, organization_id)
    if project_id == NO_PROJECT:
        return and_(where, col(Link.project_id).is_(None))
    if project_id is not None:
        projects.get_project(
            session, user=user, organization_id=organization_id, project_id=project_id
        )
        return and_(where, Link.project_id == project_id)
    return where


def delete_link(session: Session, *, user: User, organization_id: int | None, link_id: int) -> Link:
    """The creator may delete; in an organization, Owners and Admins may too. The workspace
    is checked before the link is looked up, so another workspace's id reads as missing."""
    link = changeable_link(session, user, organization_id, link_id)
    was_pending = link.pending_approval
    session.delete(link)
    session.flush()
    usage_counters.count_item(
        session, organization_id=link.organization_id, owner_id=link.owner_id, links=-1
    )
    mark_usage_changed(
        session,
        usage.affected_organizations(
            session, owner_id=link.owner_id, organization_id=organization_id
        ),
    )
    mark_personal_usage_changed(session, [link.owner_id] if organization_id is None else [])
    webhooks.emit(session, organization_id, "link.deleted", {"link_id": link.id, "slug": link.slug, "deleted_by": user.email})
    if was_pending:
        link_approval.announce(session, organization_id)
    return link


def changeable_link(
    session: Session, user: User, organization_id: int | None, link_id: int
) -> Link:
    """A link of the workspace that `user` may change or delete. The workspace is checked
    before the link is looked up, so another workspace's id reads as missing."""
    return require_changeable(
        session,
        user,
        organization_id,
        Link,
        link_id,
        missing="Link not found.",
        denied="Only its creator, an Admin or the Owner can change this link.",
    )


def set_link_project(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    link_id: int,
    project_id: int | None,
) -> Link:
    """Move a link to another project of its workspace (None: no project). Whoever may delete
    the link may do this: its creator, and in an organization the Owner and Admins."""
    link = changeable_link(session, user, organization_id, link_id)
    project = projects.project_for_link(
        session, user=user, organization_id=organization_id, project_id=project_id
    )
    link.project_id = project.id if project else None
    session.add(link)
    session.flush()
    return link


def resolve(session: Session, slug: str) -> str | None:
    """Where /l/{slug} (or /{slug}) goes, or None (also while the link awaits approval)."""
    link = session.exec(select(Link).where(Link.slug == slug.lower())).first()
    return link.target_url if link and not link.pending_approval else None


def redirect_link(session: Session, slug: str) -> Link | None:
    """The link /l/{slug} (or /{slug}) follows, or None: the rule of `resolve`, returning the
    row, for the redirect that records the click (SPEC §14)."""
    link = session.exec(select(Link).where(Link.slug == slug.lower())).first()
    return link if link and not link.pending_approval else None


def link_by_slug(session: Session, slug: str) -> Link | None:
    """The link of `slug` (any case), approved or not: what the redirect caches."""
    return session.exec(select(Link).where(Link.slug == slug.lower())).first()


def awaiting_approval(session: Session, slug: str) -> bool:
    """Whether /l/{slug} is a link that waits for an Owner/Admin's approval."""
    link = session.exec(select(Link).where(Link.slug == slug.lower())).first()
    return bool(link and link.pending_approval)


def _slug_taken(session: Session, slug: str) -> bool:
    return session.exec(select(Link.id).where(Link.slug == slug)).first() is not None


def _random_slug(session: Session) -> str:
    while True:
        slug = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(7))
        if slug not in RESERVED and not _slug_taken(session, slug):
            return slug
