"""SPEC §13 Forgot password: same answer for every address, single-use hashed link valid one
hour, new password by registration's rules, every session ended, lockout cleared."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from orgportal import security
from orgportal.config import settings
from orgportal.models import LoginAttempt, OutboxMessage, UserSession, UserToken
from orgportal.models.base import utcnow
from orgportal.services import accounts, password_reset
from orgportal.services.errors import (
    AccountLocked,
    InvalidToken,
    NotAuthenticated,
    ValidationFailed,
)
from tests.factories import (
    BROWSER,
    PASSWORD,
    audit_actions,
    make_org,
    make_user,
    open_session,
)

NEW_PASSWORD = "a brand new passphrase"


def reset_mails(session) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == password_reset.PASSWORD_RESET)
            .order_by(col(OutboxMessage.id))
        )
    )


def ask(session, email: str) -> str:
    """Ask for a link and return the token from the mail."""
    password_reset.request_reset(session, email=email)
    session.commit()
    return reset_mails(session)[-1].link.rsplit("/", 1)[1]


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_mail(session):
    make_user(session, "ada@example.com")
    assert password_reset.request_reset(session, email=" ADA@example.com ") == "ada@example.com"
    assert password_reset.request_reset(session, email="nobody@example.com") == (
        "nobody@example.com"
    )
    session.commit()
    mails = reset_mails(session)
    assert [m.to_address for m in mails] == ["ada@example.com"]
    assert "valid for 1 hour" in mails[0].body_text
    assert mails[0].link.startswith(f"{settings.public_url}/password-reset/")


def test_an_invalid_address_is_refused_on_its_field(session):
    with pytest.raises(ValidationFailed) as err:
        password_reset.request_reset(session, email="not-an-email")
    assert "email" in err.value.errors


def test_only_the_hash_of_the_link_is_stored_and_it_lasts_one_hour(session):
    user = make_user(session)
    token = ask(session, user.email)
    row = session.exec(
        select(UserToken).where(UserToken.purpose == password_reset.PASSWORD_RESET)
    ).one()
    assert row.token_hash == security.token_hash(token) != token
    assert timedelta(minutes=59) < row.expires_at - utcnow() <= timedelta(hours=1)


def test_reset_mails_are_throttled_silently(session, monkeypatch):
    monkeypatch.setattr(settings, "mail_throttle_per_hour", 2)
    user = make_user(session)
    for _ in range(4):  # the page answers the same each time; no refusal reveals the account
        password_reset.request_reset(session, email=user.email)
        session.commit()
    assert len(reset_mails(session)) == 2


def test_the_link_sets_a_new_password_and_ends_every_session(session):
    user = make_user(session)
    raw_a, _ = open_session(session, user)
    raw_b, _ = open_session(session, user)
    session.commit()
    token = ask(session, user.email)
    assert password_reset.check_link(session, token=token).id == user.id
    password_reset.reset_password(session, token=token, password=NEW_PASSWORD)
    session.commit()
    for raw in (raw_a, raw_b):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, raw)
    assert isinstance(
        accounts.sign_in(session, email=user.email, password=NEW_PASSWORD, browser=BROWSER), str
    )
    session.rollback()
    assert not security.verify_password(PASSWORD, session.get(type(user), user.id).password_hash)


def test_a_used_link_says_so_and_changes_nothing(session):
    user = make_user(session)
    token = ask(session, user.email)
    password_reset.reset_password(session, token=token, password=NEW_PASSWORD)
    session.commit()
    with pytest.raises(InvalidToken, match="already been used"):
        password_reset.check_link(session, token=token)
    with pytest.raises(InvalidToken, match="already been used"):
        password_reset.reset_password(session, token=token, password="yet another passphrase")


def test_an_expired_link_says_so(session):
    user = make_user(session)
    token = ask(session, user.email)
    row = session.exec(select(UserToken).where(UserToken.user_id == user.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    with pytest.raises(InvalidToken, match="expired"):
        password_reset.reset_password(session, token=token, password=NEW_PASSWORD)


def test_an_unknown_link_is_not_valid(session):
    with pytest.raises(InvalidToken, match="not valid"):
        password_reset.check_link(session, token="made-up")


def test_a_newer_mail_replaces_the_older_link(session):
    user = make_user(session)
    first = ask(session, user.email)
    second = ask(session, user.email)
    with pytest.raises(InvalidToken, match="replaced by a newer one"):
        password_reset.check_link(session, token=first)
    assert password_reset.check_link(session, token=second).id == user.id


@pytest.mark.parametrize("password", ["short", "ADA@example.com"])
def test_the_new_password_follows_the_registration_rules_and_keeps_the_link(session, password):
    user = make_user(session, "ada@example.com")
    token = ask(session, user.email)
    with pytest.raises(ValidationFailed) as err:
        password_reset.reset_password(session, token=token, password=password)
    assert "password" in err.value.errors
    session.rollback()
    assert password_reset.check_link(session, token=token).id == user.id  # still usable


def test_the_reset_clears_the_lockout(session):
    user = make_user(session)
    for _ in range(settings.login_max_failures):
        session.add(LoginAttempt(email=user.email, succeeded=False))
    session.commit()
    with pytest.raises(AccountLocked):
        accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    token = ask(session, user.email)
    password_reset.reset_password(session, token=token, password=NEW_PASSWORD)
    session.commit()
    assert accounts.sign_in(session, email=user.email, password=NEW_PASSWORD, browser=BROWSER)


def test_the_reset_is_in_the_audit_log_of_the_users_organizations(session):
    user = make_user(session)
    org = make_org(session, user)
    token = ask(session, user.email)
    password_reset.reset_password(session, token=token, password=NEW_PASSWORD)
    session.commit()
    assert audit_actions(session, org.id)[-1] == "account.password_reset"
    assert session.exec(select(UserSession).where(UserSession.user_id == user.id)).all() == []
