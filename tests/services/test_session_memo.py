"""The reads a unit of work repeats (membership, organization, Security settings, the plan's
subscription) are read once while the session writes nothing, and afresh after any write:
what a use case changed, or locked before reading again, is never hidden from it."""

from collections import Counter

import pytest
from sqlalchemy import event, update
from sqlmodel import Session, col

from orgportal.models import Membership, OrganizationSecurity, Role
from orgportal.services import access_rules, permissions, plans
from orgportal.services.permissions import Permission
from tests.factories import add_member, make_org, make_user


@pytest.fixture
def statements(engine) -> Counter:
    """The tables each SELECT of the test reads first (`FROM <table>`), counted."""
    seen: Counter = Counter()

    def count(_conn, _cursor, statement: str, *_args) -> None:
        statement = " ".join(statement.split())
        if statement.lstrip().upper().startswith("SELECT") and " FROM " in statement:
            seen[statement.split(" FROM ", 1)[1].split()[0].strip('"')] += 1

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_use_case_checking_the_same_standing_again_reads_it_once(session, statements):
    owner = make_user(session)
    org = make_org(session, owner)
    session.commit()
    statements.clear()
    for _ in range(5):  # as the states of one page load do
        permissions.require(session, owner, org.id, Permission.VIEW)
        plans.organization_plan(session, org)
    assert statements["membership"] == 1
    assert statements["organization"] <= 1
    assert statements["organization_security"] == 1  # none stored: absent, and remembered
    assert statements["subscription"] == 1


def test_a_change_made_in_the_use_case_is_seen_by_its_next_check(session):
    owner = make_user(session)
    org = make_org(session, owner)
    member = add_member(session, org, Role.ADMIN)
    session.commit()
    permissions.require(session, member, org.id, Permission.EDIT_ORGANIZATION)
    assert access_rules.security_row(session, org.id) is None

    row = permissions.membership_of(session, member, org.id)
    row.role = Role.VIEWER  # not flushed yet: the next check reads afresh (and flushes)
    with pytest.raises(permissions.PermissionDenied):
        permissions.require(session, member, org.id, Permission.EDIT_ORGANIZATION)

    session.add(OrganizationSecurity(organization_id=org.id, require_two_factor=True))
    assert access_rules.security_row(session, org.id) is not None

    session.delete(permissions.membership_of(session, member, org.id))
    session.flush()
    assert permissions.membership_of(session, member, org.id) is None


def test_a_change_committed_elsewhere_is_seen_after_this_use_case_locks(engine, session):
    """A use case that takes a lock (an UPDATE) reads again behind it: another transaction's
    change committed before the lock must be seen, as it was without the memo."""
    owner = make_user(session)
    org = make_org(session, owner)
    member = add_member(session, org, Role.ADMIN)
    session.commit()
    assert permissions.membership_of(session, member, org.id).role == Role.ADMIN
    with Session(engine) as other:
        other.exec(
            update(Membership).where(col(Membership.user_id) == member.id).values(role=Role.VIEWER)
        )
        other.commit()
    session.exec(update(Membership).where(col(Membership.id) == -1).values(role=Role.OWNER))
    session.expire_all()  # (the ORM's own cache of the row; the memo is gone with the lock)
    assert permissions.membership_of(session, member, org.id).role == Role.VIEWER


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_nothing_is_remembered_past_the_transaction(engine, session, end):
    """A session used again after its commit, rollback or close reads what is there now:
    Security settings absent before, saved by another transaction meanwhile, are found."""
    owner = make_user(session)
    org = make_org(session, owner)
    session.commit()
    assert access_rules.security_row(session, org.id) is None
    getattr(session, end)()
    with Session(engine) as other:
        other.add(OrganizationSecurity(organization_id=org.id, require_two_factor=True))
        other.commit()
    assert access_rules.security_row(session, org.id) is not None
