"""Registration, confirmation, sign-in with lockout, sessions and workspaces."""

from datetime import timedelta

import pytest
from sqlmodel import select

from orgportal import security
from orgportal.models import LoginAttempt, OutboxMessage, UserSession, UserToken
from orgportal.models.base import utcnow
from orgportal.services import accounts
from orgportal.services.accounts import Registration
from orgportal.services.errors import (
    AccountLocked,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from tests.unit.factories import PASSWORD, make_org, make_user


def test_register_stores_trimmed_lowercase_email_and_argon2_hash(session):
    user = accounts.register(session, Registration("  Ada@Example.COM ", PASSWORD, "Ada", "L"))
    session.commit()
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash
    assert user.email_confirmed_at is None


@pytest.mark.parametrize(
    ("email", "password", "first", "field"),
    [
        ("not-an-email", PASSWORD, "Ada", "email"),
        ("ada@example.com", "short", "Ada", "password"),
        ("ada@example.com", "ada@example.com", "Ada", "password"),
        ("ada@example.com", PASSWORD, "  ", "first_name"),
    ],
)
def test_register_refuses_invalid_fields_and_writes_nothing(session, email, password, first, field):
    with pytest.raises(ValidationFailed) as err:
        accounts.register(session, Registration(email, password, first, "L"))
    assert field in err.value.errors
    session.rollback()
    assert session.exec(select(OutboxMessage)).all() == []


def test_register_refuses_duplicate_email_case_insensitively(session):
    make_user(session, "ada@example.com")
    with pytest.raises(ValidationFailed) as err:
        accounts.register(session, Registration("ADA@example.com", PASSWORD, "A", "B"))
    assert "already exists" in err.value.errors["email"]


def test_confirmation_mail_is_queued_with_a_single_use_hashed_token(session):
    user = make_user(session, confirmed=False)
    mail = session.exec(select(OutboxMessage)).one()
    assert mail.to_address == user.email and "/confirm/" in mail.link
    raw = mail.link.rsplit("/", 1)[-1]
    stored = session.exec(select(UserToken)).one()
    assert stored.token_hash == security.token_hash(raw) and raw not in stored.token_hash

    assert accounts.confirm_email(session, raw).email_confirmed_at is not None
    session.commit()
    with pytest.raises(InvalidToken, match="already been used"):
        accounts.confirm_email(session, raw)


def test_expired_confirmation_link_is_refused(session):
    make_user(session, confirmed=False)
    raw = session.exec(select(OutboxMessage)).one().link.rsplit("/", 1)[-1]
    token = session.exec(select(UserToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.add(token)
    session.commit()
    with pytest.raises(InvalidToken, match="expired"):
        accounts.confirm_email(session, raw)


def test_sign_in_issues_ticket_that_opens_one_session(session):
    user = make_user(session)
    ticket = accounts.sign_in(session, email=user.email.upper(), password=PASSWORD)
    raw, row = accounts.open_session(session, ticket)
    session.commit()
    assert row.token_hash == security.token_hash(raw)
    assert accounts.authenticate(session, raw).user.id == user.id
    with pytest.raises(InvalidToken):
        accounts.open_session(session, ticket)


def test_wrong_password_and_unknown_email_get_the_same_refusal(session):
    user = make_user(session)
    with pytest.raises(InvalidCredentials) as wrong:
        accounts.sign_in(session, email=user.email, password="wrong password!")
    with pytest.raises(InvalidCredentials) as unknown:
        accounts.sign_in(session, email="nobody@example.com", password=PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_five_failures_lock_the_email_for_fifteen_minutes(session):
    user = make_user(session)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            accounts.sign_in(session, email=user.email, password="wrong password!")
    with pytest.raises(AccountLocked, match="Try again in 15 minutes"):
        accounts.sign_in(session, email=user.email, password=PASSWORD)
    other = make_user(session)
    assert accounts.sign_in(session, email=other.email, password=PASSWORD)

    for attempt in session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)):
        attempt.at -= timedelta(minutes=16)
        session.add(attempt)
    session.commit()
    assert accounts.sign_in(session, email=user.email, password=PASSWORD)


def test_failures_are_kept_although_the_refusal_rolls_back(engine, session):
    user = make_user(session)
    with pytest.raises(InvalidCredentials):
        accounts.sign_in(session, email=user.email, password="wrong password!")
    session.rollback()
    assert len(session.exec(select(LoginAttempt)).all()) == 1


def test_signed_out_or_expired_sessions_stop_working(session):
    user = make_user(session)
    raw, row = accounts.open_session(session, accounts.issue_sign_in_ticket(session, user))
    session.commit()
    accounts.sign_out(session, raw)
    session.commit()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw)

    raw2, row2 = accounts.open_session(session, accounts.issue_sign_in_ticket(session, user))
    row2.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row2)
    session.commit()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw2)
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, None)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/organization/audit", "/organization/audit"),
        ("/support/invite/abc?x=1", "/support/invite/abc?x=1"),
        ("https://other.site", "/organization"),
        ("//other.site/path", "/organization"),
        ("/\\other.site", "/organization"),
        ("javascript:alert(1)", "/organization"),
        ("", "/organization"),
        (None, "/organization"),
    ],
)
def test_safe_next_only_allows_paths_on_this_site(candidate, expected):
    assert accounts.safe_next(candidate) == expected


def test_workspaces_list_personal_first_and_switch_checks_membership(session):
    user = make_user(session)
    stranger = make_user(session)
    mine = make_org(session, user, "Zeta Org")
    theirs = make_org(session, stranger, "Other Org")
    raw, _ = accounts.open_session(session, accounts.issue_sign_in_ticket(session, user))
    session.commit()
    viewer = accounts.authenticate(session, raw)

    names = [w.name for w in accounts.list_workspaces(session, user)]
    assert names == ["Personal Workspace", "Zeta Org"]

    accounts.switch_workspace(session, viewer, mine.id)
    session.commit()
    assert session.get(UserSession, viewer.session.id).active_org_id == mine.id
    with pytest.raises(NotFound):
        accounts.switch_workspace(session, viewer, theirs.id)
