"""Outgoing mail, written in the same transaction as the action that causes it."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    link: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, index=True)
