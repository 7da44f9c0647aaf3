"""Outgoing webhooks (SPEC §17): an organization's endpoints and the messages sent to them.

A `WebhookMessage` is both the outbox row (written in the transaction of the action that
caused it, claimed and delivered by a worker) and the endpoint's delivery log entry: its
last attempt's time, response code, error and the start of the answer are kept on it.
`message_id` is the Standard Webhooks `webhook-id`: the same on every retry and on a Resend,
so a receiver can drop the duplicates at-least-once delivery may bring.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    # The event types it receives, space-separated (e.g. "member.joined ticket.created").
    event_types: str = Field(default="", max_length=2000)
    # The signing secret (`whsec_…`), sealed by services/secret_box.py: shown once at creation.
    secret_sealed: str = Field(max_length=500)
    enabled: bool = True
    disabled_reason: str = Field(default="", max_length=300)
    # Since when every attempt failed (None after a success): a day of it disables it.
    failing_since: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class WebhookMessage(SQLModel, table=True):
    __tablename__ = "webhook_message"

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True, ondelete="CASCADE")
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    message_id: str = Field(max_length=40, index=True)  # `msg_…`, the webhook-id header
    event_type: str = Field(max_length=64)
    payload: str  # the JSON body, exactly as signed and sent
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    attempts: int = 0
    last_attempt_at: datetime | None = None
    response_code: int | None = None
    response_body: str = Field(default="", max_length=4096)  # cut to a few KB
    last_error: str = Field(default="", max_length=1000)
    delivered_at: datetime | None = Field(default=None, index=True)
    failed_at: datetime | None = None  # every retry failed (about a day): Resend sends it again
