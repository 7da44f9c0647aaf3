"""Link approval (SPEC §14): the `require_approval_for_links` setting.

With the setting on, links that Agents and Billing Admins create in the organization start
pending: they count toward usage at once, but they do not redirect (`links.resolve`) until
an Owner or Admin approves them in the Approval queue. Rejecting deletes the link and tells
its creator by mail. Turning the setting off approves nothing: the queue stays until each
link is decided. Open pages hear about queue changes on the live bus topic "approvals".
"""

from sqlmodel import Session, col, func, select

from orgportal import routes
from orgportal.config import settings
from orgportal.db import mark_changed, mark_usage_changed
from orgportal.models import Link, Organization, Role, User
from orgportal.models.base import utcnow
from orgportal.services import audit, outbox, usage, usage_counters, webhooks
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.permissions import Permission, membership_of, organization_row, require
from orgportal.services.validation import FieldError, text

LIVE_TOPIC = "approvals"
# The roles whose links wait for approval while the setting is on.
ROLES_NEEDING_APPROVAL = frozenset({Role.AGENT.value, Role.BILLING_ADMIN.value})
MAX_REASON = 500


def starts_pending(session: Session, user: User, organization_id: int | None) -> bool:
    """Whether a link `user` creates now in this workspace starts pending."""
    if organization_id is None:
        return False
    organization = session.get(Organization, organization_id)
    membership = membership_of(session, user, organization_id)
    return bool(
        organization is not None
        and organization.require_approval_for_links
        and membership is not None
        and membership.role in ROLES_NEEDING_APPROVAL
    )


def setting_on(session: Session, organization_id: int) -> bool:
    organization = session.get(Organization, organization_id)
    return bool(organization and organization.require_approval_for_links)


def announce(session: Session, organization_id: int | None) -> None:
    """Tell open pages (the nav's badge, the queue) that the organization's queue changed."""
    mark_changed(session, LIVE_TOPIC, [organization_id])


def pending_count(session: Session, organization_id: int) -> int:
    """How many links wait in the organization's queue (no permission check: callers show
    it only to those with `approve_links`)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Link)
            .where(Link.organization_id == organization_id, col(Link.pending_approval))
        ).one()
    )


def list_pending(
    session: Session, *, user: User, organization_id: int | None, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Link, str]], int]:
    """One page of the queue, oldest first, each link with its creator's email; Owner/Admin."""
    organization_id = _require_approver(session, user, organization_id)
    where = (Link.organization_id == organization_id, col(Link.pending_approval))
    total = session.exec(select(func.count()).select_from(Link).where(*where)).one()
    rows = session.exec(
        select(Link, User.email)
        .join(User, col(User.id) == Link.owner_id)
        .where(*where)
        .order_by(col(Link.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [(link, str(email)) for link, email in rows], int(total)


def approve_link(
    session: Session, *, user: User, organization_id: int | None, link_id: int
) -> Link:
    """The link starts redirecting at once."""
    organization_id = _require_approver(session, user, organization_id)
    link = _pending_link(session, organization_id, link_id)
    link.pending_approval = False
    link.approved_at = utcnow()
    link.approved_by_id = user.id
    session.add(link)
    session.flush()
    creator = session.get(User, link.owner_id)
    webhooks.emit(session, organization_id, "link.approved", {"link_id": link.id, "slug": link.slug, "approved_by": user.email})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="link.approved",
        summary=f"Approved short link /{link.slug} by {creator.email if creator else 'a member'}",
    )
    announce(session, organization_id)
    return link


def reject_link(
    session: Session, *, user: User, organization_id: int | None, link_id: int, reason: str = ""
) -> Link:
    """Deletes the pending link (its room in the pool comes back) and mails its creator."""
    organization_id = _require_approver(session, user, organization_id)
    link = _pending_link(session, organization_id, link_id)
    try:
        reason = text(reason or "", label="Reason", max_len=MAX_REASON)
    except FieldError as exc:
        raise ValidationFailed({"reason": str(exc)}) from exc
    organization = session.get(Organization, organization_id)
    creator = session.get(User, link.owner_id)
    session.delete(link)
    session.flush()
    usage_counters.count_item(
        session, organization_id=link.organization_id, owner_id=link.owner_id, links=-1
    )
    webhooks.emit(session, organization_id, "link.deleted", {"link_id": link.id, "slug": link.slug, "deleted_by": user.email, "rejected": True})
    audit.record(
        session,
        organization_id=organization_id,
        actor=user,
        action="link.rejected",
        summary=f"Rejected short link /{link.slug} by {creator.email if creator else 'a member'}",
    )
    if creator is not None and organization is not None:
        because = f"\nReason: {reason}\n" if reason else ""
        outbox.queue_mail(
            session,
            to=creator.email,
            subject=f"Your short link /{link.slug} was not approved in {organization.name}",
            body=(
                f"{user.display_name} rejected your short link /{link.slug} in "
                f"{organization.name}, so it was deleted.\n\nIt pointed to: {link.target_url}\n"
                f"{because}\nYour links: {settings.public_url}{routes.LINKS}\n"
            ),
            link=f"{settings.public_url}{routes.LINKS}",
            kind="link_rejected",
            user_id=creator.id,
            organization_id=organization_id,
        )
    mark_usage_changed(
        session,
        usage.affected_organizations(
            session, owner_id=link.owner_id, organization_id=organization_id
        ),
    )
    announce(session, organization_id)
    return link


def _require_approver(session: Session, user: User, organization_id: int | None) -> int:
    """Owner/Admin of an organization. The Personal Workspace has no queue: a Conflict, not
    NotFound, as its links exist (they just never wait for approval)."""
    if organization_id is None:
        raise Conflict(
            "The Personal Workspace has no approval queue: its links never wait for approval."
        )
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    return organization_id


def _pending_link(session: Session, organization_id: int, link_id: int) -> Link:
    """A pending link of this organization; another organization's id reads as missing."""
    link = organization_row(session, Link, link_id, organization_id, "Link not found.")
    if not link.pending_approval:
        raise NotFound("That link is not waiting for approval.")
    return link
