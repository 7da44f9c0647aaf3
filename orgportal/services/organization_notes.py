"""An organization's notes for people: what the workspace is for, and who to ask about it.

Seed 003 ("Document Organization Purpose") sends them as settings: `purpose` (e.g.
"production") and `owner` (a contact address, e.g. a team's mailing list; not the Owner
role). Owners and Admins set them, as the other settings (SPEC §3).
"""

from sqlmodel import Session

from orgportal.models import Organization, User
from orgportal.models.base import utcnow
from orgportal.services import audit
from orgportal.services.errors import ValidationFailed
from orgportal.services.permissions import Permission, require
from orgportal.services.validation import FieldError, normalize_email, text


def update_notes(
    session: Session,
    *,
    user: User,
    organization_id: int,
    purpose: str | None = None,
    contact_email: str | None = None,
) -> Organization:
    """Change those given (None: unchanged; "" clears). Both are checked before either
    changes."""
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    errors: dict[str, str] = {}
    new: dict[str, str] = {}
    if purpose is not None:
        try:
            new["purpose"] = text(purpose, label="Purpose", max_len=80, single_line=True)
        except FieldError as exc:
            errors["purpose"] = str(exc)
    if contact_email is not None:
        try:
            new["contact_email"] = normalize_email(contact_email) if contact_email.strip() else ""
        except FieldError as exc:
            errors["owner"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    changed = {k: v for k, v in new.items() if getattr(organization, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(organization, key, value)
        organization.updated_at = utcnow()
        session.add(organization)
        audit.record(
            session,
            organization_id=organization_id,
            actor=user,
            action="organization.settings_updated",
            summary="Changed settings: " + ", ".join(f"{k}={v}" for k, v in changed.items()),
        )
    return organization
