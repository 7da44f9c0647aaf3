"""Writing and reading the append-only audit log (SPEC §12)."""

from sqlmodel import Session, col, select

from orgportal.models import AuditEvent, User
from orgportal.services.permissions import Permission, require


def record(
    session: Session, *, organization_id: int, actor: User | None, action: str, summary: str
) -> None:
    """Add an entry inside the caller's transaction, so it lands exactly when the action does."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else "",
            action=action,
            summary=summary,
        )
    )


def list_events(
    session: Session, *, user: User, organization_id: int, limit: int = 50, offset: int = 0
) -> list[AuditEvent]:
    """Newest first. Only events since the organization itself was created: should its id
    ever be a reused one, the trail of the organization that had it before stays hidden."""
    organization, _ = require(session, user, organization_id, Permission.VIEW_AUDIT_LOG)
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.organization_id == organization_id,
                col(AuditEvent.created_at) >= organization.created_at,
            )
            .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
            .offset(offset)
            .limit(limit)
        )
    )
