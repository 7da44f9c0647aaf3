"""Small factories that go through the real services."""

import uuid

from sqlmodel import Session, col, select

from orgportal.models import AuditEvent, Link, Membership, Organization, Role, User
from orgportal.services import accounts, organizations, usage_counters

PASSWORD = "correct horse battery"
BROWSER = "nonce-of-the-test-browser"


def make_user(session: Session, email: str | None = None, *, confirmed: bool = True) -> User:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    user = accounts.register(
        session, accounts.Registration(email, PASSWORD, "Test", "User"), confirmed=confirmed
    )
    session.commit()
    return user


def make_org(session: Session, owner: User, name: str = "Acme Marketing Team") -> Organization:
    org = organizations.create_organization(session, user=owner, name=name)
    session.commit()
    return org


def add_member(session: Session, org: Organization, role: Role, user: User | None = None) -> User:
    """Direct insert: invitations are tested on their own; here we only need a member (whose
    personal items may now count in the organization's pool, as when an invite is accepted)."""
    user = user or make_user(session)
    session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
    session.flush()
    usage_counters.resync(session, [user.id])
    session.commit()
    return user


def bulk_links(
    session: Session, *, owner: User, organization_id: int | None, count: int, prefix: str
) -> None:
    """Many links at once, counted in their pool as `links.create_link` counts one."""
    session.add_all(
        Link(
            organization_id=organization_id,
            owner_id=owner.id,
            slug=f"{prefix}{n}",
            target_url="https://x.io",
        )
        for n in range(count)
    )
    session.flush()
    usage_counters.count_item(
        session, organization_id=organization_id, owner_id=owner.id, links=count
    )
    session.commit()


def open_session(session: Session, user: User, organization_id: int | None = None):
    """A signed-in session of `user`, as the sign-in page makes one (ticket, then cookie);
    returns (raw cookie token, session row)."""
    ticket = accounts.issue_sign_in_ticket(session, user, organization_id, browser=BROWSER)
    return accounts.open_session(session, ticket, browser=BROWSER)


def audit_actions(session: Session, org_id: int) -> list[str]:
    """The organization's audit log actions, oldest first."""
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.organization_id == org_id)
            .order_by(col(AuditEvent.id))
        )
    )
