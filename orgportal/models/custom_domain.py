"""Branded short-link domains (SPEC §15): `go.acme.com` serving an organization's links.

`domain` is IDNA-normalized (punycode), lower case and unique across all organizations. A
domain serves links only while `status` is verified; the daily re-check (`checked_at`) turns
it to failed when its DNS TXT record is gone.
"""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class DomainStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


class CustomDomain(SQLModel, table=True):
    __tablename__ = "custom_domain"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    domain: str = Field(max_length=253, unique=True, index=True)
    token: str = Field(max_length=64)
    status: str = Field(default=DomainStatus.PENDING, max_length=16, index=True)
    failure_reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    verified_at: datetime | None = None
    checked_at: datetime | None = None
