"""Outgoing mail, written in the same transaction as the action that causes it."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body_text: str
    # The same mail in HTML (multipart/alternative with body_text); "": plain text only.
    body_html: str = ""
    link: str = Field(default="", max_length=1000)
    # What the mail is and for whom: account mails are throttled per address and per user
    # by counting these rows, so every worker sees the same count.
    kind: str = Field(default="", max_length=32)
    user_id: int | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="SET NULL"
    )
    # The organization the mail was sent for; its Owner/Admins are told if it is given up.
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, index=True)
    failed_at: datetime | None = None  # given up after MAIL_MAX_ATTEMPTS; never retried
