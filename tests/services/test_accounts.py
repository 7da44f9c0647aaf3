"""Registration, confirmation, sign-in with lockout, sessions and workspaces."""

from datetime import timedelta

import pytest
from sqlmodel import select

from orgportal import security
from orgportal.config import settings
from orgportal.models import LoginAttempt, OutboxMessage, User, UserSession, UserToken
from orgportal.models.base import utcnow
from orgportal.services import accounts, outbox
from orgportal.services.accounts import Registration
from orgportal.services.errors import (
    AccountLocked,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from tests.factories import BROWSER, PASSWORD, make_org, make_user, open_session


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
        ("ada@example.com", PASSWORD, "Ada\r\nBcc: x@evil.test", "first_name"),
    ],
)
def test_register_refuses_invalid_fields_and_writes_nothing(session, email, password, first, field):
    with pytest.raises(ValidationFailed) as err:
        accounts.register(session, Registration(email, password, first, "L"))
    assert field in err.value.errors
    session.rollback()
    assert session.exec(select(OutboxMessage)).all() == []


def test_registering_a_known_address_creates_nothing_and_tells_its_owner(session, monkeypatch):
    """Hardening #8: the answer must not reveal which emails have accounts."""
    owner = make_user(session, "ada@example.com")
    hashed: list[str] = []
    real_hash = security.hash_password
    monkeypatch.setattr(security, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw))

    assert accounts.register(session, Registration("ADA@example.com", PASSWORD, "A", "B")) is None
    session.commit()
    assert [u.id for u in session.exec(select(User))] == [owner.id]
    assert session.exec(select(UserSession)).all() == []
    assert session.exec(select(UserToken)).all() == []
    notice = session.exec(select(OutboxMessage)).one()
    assert notice.to_address == "ada@example.com" and notice.user_id == owner.id
    assert "tried to create" in notice.subject and notice.link.endswith("/login")
    assert hashed == [PASSWORD]  # the same slow work as a new account: no timing tell

    assert accounts.register(session, Registration("new@example.com", PASSWORD, "N", "U"))
    assert len(hashed) == 2


def test_registering_a_known_address_again_and_again_sends_at_most_the_throttle(session):
    make_user(session, "ada@example.com")
    for _ in range(5):
        assert (
            accounts.register(session, Registration("ada@example.com", PASSWORD, "A", "B")) is None
        )
        session.commit()
    assert len(session.exec(select(OutboxMessage)).all()) == 3


def test_invited_registration_still_refuses_a_known_address(session):
    make_user(session, "ada@example.com")
    with pytest.raises(ValidationFailed) as err:
        accounts.register(
            session, Registration("ada@example.com", PASSWORD, "A", "B"), confirmed=True
        )
    assert "already exists" in err.value.errors["email"]


def test_confirmation_mails_are_throttled_per_address(session, monkeypatch):
    """Hardening #7: resending cannot flood an inbox; the count lives in the database."""
    user = make_user(session, confirmed=False)  # the first mail
    accounts.send_confirmation(session, user)
    accounts.send_confirmation(session, user)
    session.commit()
    with pytest.raises(TooManyRequests) as refused:
        accounts.send_confirmation(session, user)
    assert refused.value.status == 429
    assert refused.value.message == (
        "We already sent 3 emails to this address in the last hour. Try again in 60 minutes."
    )
    session.rollback()
    assert len(session.exec(select(OutboxMessage)).all()) == 3

    for mail in session.exec(select(OutboxMessage)):
        mail.created_at -= timedelta(minutes=61)
        session.add(mail)
    session.commit()
    accounts.send_confirmation(session, user)  # an hour later it works again

    monkeypatch.setattr(settings, "mail_throttle_per_hour", 1)
    with pytest.raises(TooManyRequests, match="1 email to this address"):
        accounts.send_confirmation(session, user)


def test_confirmation_mails_are_throttled_per_user_whatever_the_address(session):
    user = make_user(session, confirmed=True)
    for n in range(3):
        outbox.queue_mail(
            session,
            to=f"old-{n}@example.com",
            subject="Confirm",
            body="",
            kind=accounts.CONFIRM_EMAIL,
            user_id=user.id,
        )
    user.email_confirmed_at = None
    session.add(user)
    session.commit()
    with pytest.raises(TooManyRequests):
        accounts.send_confirmation(session, user)


def test_confirmation_mail_is_queued_with_a_single_use_hashed_token(session):
    user = make_user(session, confirmed=False)
    mail = session.exec(select(OutboxMessage)).one()
    assert mail.to_address == user.email and "/confirm/" in mail.link
    raw = mail.link.rsplit("/", 1)[-1]
    stored = session.exec(select(UserToken)).one()
    assert stored.token_hash == security.token_hash(raw) and raw not in stored.token_hash

    assert accounts.confirm_email(session, raw, signed_in_user_id=user.id).email_confirmed_at
    session.commit()
    with pytest.raises(InvalidToken, match="already been used"):
        accounts.confirm_email(session, raw, signed_in_user_id=None)


def test_expired_confirmation_link_is_refused(session):
    make_user(session, confirmed=False)
    raw = session.exec(select(OutboxMessage)).one().link.rsplit("/", 1)[-1]
    token = session.exec(select(UserToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.add(token)
    session.commit()
    with pytest.raises(InvalidToken, match="expired"):
        accounts.confirm_email(session, raw, signed_in_user_id=None)


def test_sign_in_issues_ticket_that_opens_one_session(session):
    user = make_user(session)
    ticket = accounts.sign_in(session, email=user.email.upper(), password=PASSWORD, browser=BROWSER)
    raw, row = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    assert row.token_hash == security.token_hash(raw)
    assert accounts.authenticate(session, raw).user.id == user.id
    with pytest.raises(InvalidToken):
        accounts.open_session(session, ticket, browser=BROWSER)


def test_wrong_password_and_unknown_email_get_the_same_refusal(session):
    user = make_user(session)
    with pytest.raises(InvalidCredentials) as wrong:
        accounts.sign_in(session, email=user.email, password="wrong password!", browser=BROWSER)
    with pytest.raises(InvalidCredentials) as unknown:
        accounts.sign_in(session, email="nobody@example.com", password=PASSWORD, browser=BROWSER)
    assert wrong.value.message == unknown.value.message


def test_five_failures_lock_the_email_for_fifteen_minutes(session):
    user = make_user(session)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            accounts.sign_in(session, email=user.email, password="wrong password!", browser=BROWSER)
    with pytest.raises(AccountLocked, match="Try again in 15 minutes"):
        accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    other = make_user(session)
    assert accounts.sign_in(session, email=other.email, password=PASSWORD, browser=BROWSER)

    for attempt in session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)):
        attempt.at -= timedelta(minutes=16)
        session.add(attempt)
    session.commit()
    assert accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)


def test_failures_are_kept_although_the_refusal_rolls_back(engine, session):
    user = make_user(session)
    with pytest.raises(InvalidCredentials):
        accounts.sign_in(session, email=user.email, password="wrong password!", browser=BROWSER)
    session.rollback()
    assert len(session.exec(select(LoginAttempt)).all()) == 1


def test_signed_out_or_expired_sessions_stop_working(session):
    user = make_user(session)
    raw, row = open_session(session, user)
    session.commit()
    accounts.sign_out(session, raw)
    session.commit()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw)

    raw2, row2 = open_session(session, user)
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
    raw, _ = open_session(session, user)
    session.commit()
    viewer = accounts.authenticate(session, raw)

    names = [w.name for w in accounts.list_workspaces(session, user)]
    assert names == ["Personal Workspace", "Zeta Org"]

    accounts.switch_workspace(session, viewer, mine.id)
    session.commit()
    assert session.get(UserSession, viewer.session.id).active_org_id == mine.id
    with pytest.raises(NotFound):
        accounts.switch_workspace(session, viewer, theirs.id)


def test_a_sign_in_ticket_works_only_in_the_browser_that_asked_for_it(session):
    """Login CSRF: a page elsewhere makes the victim's browser open the attacker's ticket."""
    attacker = make_user(session)
    ticket = accounts.sign_in(
        session, email=attacker.email, password=PASSWORD, browser="attackers-browser"
    )
    session.commit()
    with pytest.raises(InvalidToken, match="this browser"):
        accounts.open_session(session, ticket, browser="victims-browser")
    with pytest.raises(InvalidToken):
        accounts.open_session(session, ticket, browser="")
    raw, _ = accounts.open_session(session, ticket, browser="attackers-browser")
    assert accounts.authenticate(session, raw).user.id == attacker.id


def test_no_ticket_without_a_browser_nonce(session):
    user = make_user(session)
    with pytest.raises(NotAuthenticated, match="allow cookies"):
        accounts.sign_in(session, email=user.email, password=PASSWORD, browser="")
