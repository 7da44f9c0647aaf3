"""All SQLModel tables; importing this package registers them on SQLModel.metadata.

The bottom layer: models import only each other (and SQLModel); everything above may
import them, and nothing here knows about services, Reflex, states or views.
"""

from orgportal.models.analytics import Click, ClickRollup, Conversion
from orgportal.models.api_key import ApiKey
from orgportal.models.audit import AuditEvent
from orgportal.models.billing import (
    BillingEvent,
    Subscription,
    TestModeCheckout,
    TestModeSubscription,
)
from orgportal.models.company_domain import (
    CompanyDomain,
    CompanyJoinSettings,
    JoinPolicy,
    JoinRequest,
    JoinRequestStatus,
)
from orgportal.models.content import Link, StoredFile
from orgportal.models.counters import OrganizationCounter, PersonalCounter
from orgportal.models.custom_domain import CustomDomain, DomainStatus
from orgportal.models.invite import Invite, InviteStatus
from orgportal.models.notification import NotificationOptOut, UsageAlert
from orgportal.models.organization import Membership, Organization, Role
from orgportal.models.organization_key import OrganizationApiKey
from orgportal.models.outbox import OutboxMessage
from orgportal.models.passkey import Passkey, PasskeyChallenge
from orgportal.models.project import Project
from orgportal.models.scim import ScimDepartment, ScimToken, ScimUser
from orgportal.models.security import OrganizationSecurity, RecoveryCode, TwoFactor
from orgportal.models.sso import (
    SamlAssertionSeen,
    SsoConnection,
    SsoIdentity,
    SsoLogin,
    SsoProtocol,
)
from orgportal.models.support import (
    AuthorizedDomain,
    Department,
    DepartmentMember,
    SupportSettings,
    Ticket,
    TicketCounter,
    TicketMessage,
    TicketReplyLink,
    TicketStatus,
)
from orgportal.models.user import LoginAttempt, User, UserSession, UserToken
from orgportal.models.webhook import WebhookEndpoint, WebhookMessage
from orgportal.models.workspace_token import WorkspaceToken

__all__ = [
    "Click",
    "ClickRollup",
    "Conversion",
    "ApiKey",
    "AuditEvent",
    "BillingEvent",
    "CompanyDomain",
    "CompanyJoinSettings",
    "JoinPolicy",
    "JoinRequest",
    "JoinRequestStatus",
    "Subscription",
    "TestModeCheckout",
    "TestModeSubscription",
    "Invite",
    "Link",
    "OrganizationCounter",
    "PersonalCounter",
    "CustomDomain",
    "DomainStatus",
    "StoredFile",
    "InviteStatus",
    "LoginAttempt",
    "Membership",
    "NotificationOptOut",
    "UsageAlert",
    "Organization",
    "OrganizationApiKey",
    "OutboxMessage",
    "Passkey",
    "PasskeyChallenge",
    "Project",
    "ScimDepartment",
    "ScimToken",
    "ScimUser",
    "OrganizationSecurity",
    "RecoveryCode",
    "TwoFactor",
    "Role",
    "User",
    "UserSession",
    "UserToken",
    "WorkspaceToken",
    "AuthorizedDomain",
    "Department",
    "DepartmentMember",
    "SupportSettings",
    "Ticket",
    "TicketCounter",
    "TicketMessage",
    "TicketReplyLink",
    "TicketStatus",
    "SamlAssertionSeen",
    "SsoConnection",
    "SsoIdentity",
    "SsoLogin",
    "SsoProtocol",
    "WebhookEndpoint",
    "WebhookMessage",
]
