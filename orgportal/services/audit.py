"""Writing and reading the append-only audit log (SPEC §12)."""

from sqlmodel import Session, col, select

from orgportal.models import AuditEvent, User
from orgportal.services.permissions import Permission, require

# Every action code recorded anywhere (`audit.record(..., action=...)`), in words for the
# Audit Log page; tests/services/test_audit.py checks the code base against this table.
ACTIONS = {
    "organization.created": "Organization created",
    "organization.updated": "Organization updated",
    "organization.business_details_updated": "Business details updated",
    "organization.settings_updated": "Settings updated",
    "organization.deleted": "Organization deleted",
    "member.invited": "Member invited",
    "member.invite_resent": "Invitation resent",
    "member.invite_revoked": "Invitation revoked",
    "member.declined": "Invitation declined",
    "member.joined": "Member joined",
    "member.role_changed": "Role changed",
    "member.removed": "Member removed",
    "member.ownership_transferred": "Ownership transferred",
    "member.left": "Member left",
    "billing.seats_changed": "Seats changed",
    "billing.subscribed": "Subscribed",
    "billing.subscription_updated": "Subscription updated",
    "support.domain_added": "Authorized domain added",
    "support.domain_removed": "Authorized domain removed",
    "domain.added": "Custom domain added",
    "domain.verified": "Custom domain verified",
    "domain.failed": "Custom domain failed verification",
    "domain.removed": "Custom domain removed",
    "company_domain.added": "Company domain added",
    "company_domain.verified": "Company domain verified",
    "company_domain.failed": "Company domain failed verification",
    "company_domain.removed": "Company domain removed",
    "company_domain.join_policy_changed": "Join by company domain changed",
    "member.join_requested": "Asked to join",
    "member.join_declined": "Join request declined",
    "support.prefix_changed": "Ticket prefix changed",
    "support.department_created": "Department created",
    "support.department_renamed": "Department renamed",
    "support.department_deleted": "Department deleted",
    "support.department_member_added": "Department member added",
    "support.department_member_removed": "Department member removed",
    "ticket.created": "Ticket opened",
    "project.created": "Project created",
    "project.renamed": "Project renamed",
    "project.deleted": "Project deleted",
    "link.approved": "Link approved",
    "link.rejected": "Link rejected",
    "mail.failed": "Email not delivered",
    "security.two_factor_enabled": "Two-factor sign-in turned on",
    "security.two_factor_disabled": "Two-factor sign-in turned off",
    "security.recovery_code_used": "Recovery code used",
    "security.passkey_added": "Passkey added",
    "security.passkey_removed": "Passkey removed",
    "security.passkey_used": "Signed in with a passkey",
    "security.two_factor_requirement_changed": "Two-factor requirement changed",
    "security.ip_allowlist_changed": "IP allowlist changed",
    # single sign-on (services/sso.py, sso_enforcement.py, SPEC §16)
    "sso.configured": "Single sign-on set up",
    "sso.removed": "Single sign-on removed",
    "sso.tested": "Single sign-on tested",
    "sso.enforcement_changed": "Enforce SSO changed",
    "sso.signed_in": "Signed in with single sign-on",
    "sso.account_created": "Account created by single sign-on",
    "sso.email_updated": "Email updated by the identity provider",
    "sso.refused": "Single sign-on refused",
    "sso.break_glass_sign_in": "Owner's break-glass password sign-in",
    # organization API keys (services/organization_keys.py, SPEC §17)
    "api_key.created": "API key created",
    "api_key.rotated": "API key rotated",
    "api_key.revoked": "API key revoked",
    # SCIM provisioning (services/scim_tokens.py, SPEC §16)
    "scim.token_generated": "SCIM token generated",
    "scim.token_revoked": "SCIM token revoked",
    # a member's own account (services/account_audit.py, SPEC §13)
    "account.name_changed": "Name changed",
    "account.password_changed": "Password changed",
    "account.password_reset": "Password reset by email",
    "account.reclaimed": "Unconfirmed account cleared for its address's owner",
    "account.email_change_requested": "Email change requested",
    "account.email_changed": "Email changed",
    "account.session_revoked": "Session signed out",
    "account.sessions_revoked": "Other sessions signed out",
    "account.deleted": "Account deleted",
}


def describe(action: str) -> str:
    """`billing.seats_changed` → "Seats changed"; an unknown code still reads as words."""
    if action in ACTIONS:
        return ACTIONS[action]
    words = action.rsplit(".", 1)[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else action


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
