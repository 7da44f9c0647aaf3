"""All SQLModel tables; importing this package registers them on SQLModel.metadata."""

from orgportal.models.audit import AuditEvent
from orgportal.models.billing import (
    BillingEvent,
    Subscription,
    TestModeCheckout,
    TestModeSubscription,
)
from orgportal.models.content import Link, StoredFile
from orgportal.models.invite import Invite, InviteStatus
from orgportal.models.organization import Membership, Organization, Role
from orgportal.models.outbox import OutboxMessage
from orgportal.models.user import LoginAttempt, User, UserSession, UserToken

__all__ = [
    "AuditEvent",
    "BillingEvent",
    "Subscription",
    "TestModeCheckout",
    "TestModeSubscription",
    "Invite",
    "Link",
    "StoredFile",
    "InviteStatus",
    "LoginAttempt",
    "Membership",
    "Organization",
    "OutboxMessage",
    "Role",
    "User",
    "UserSession",
    "UserToken",
]
