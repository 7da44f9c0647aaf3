"""Append-only audit trail. No foreign key to the organization: the trail outlives it."""

from datetime import datetime

from sqlalchemy import event
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(index=True)
    actor_id: int | None = None
    actor_email: str = Field(default="", max_length=254)
    action: str = Field(max_length=64)
    summary: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, _target) -> None:
    raise AuditLogIsAppendOnly("audit events are never changed or deleted")
