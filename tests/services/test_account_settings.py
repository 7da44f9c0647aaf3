"""SPEC §13 /account: name, password, email change, sessions, deleting the account."""

from datetime import timedelta
from functools import partial

import pytest
from sqlmodel import Session, col, select

from orgportal import db, security
from orgportal.adapters.billing import TestModeBilling
from orgportal.adapters.live import InProcessBus
from orgportal.config import settings
from orgportal.models import (
    AuditEvent,
    Click,
    Link,
    LoginAttempt,
    Membership,
    OutboxMessage,
    Role,
    StoredFile,
    Subscription,
    User,
    UserSession,
    UserToken,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    account_settings,
    accounts,
    api_keys,
    billing,
    files,
    links,
    password_reset,
    user_sessions,
)
from orgportal.services.errors import (
    AccountLocked,
    Conflict,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from tests.factories import (
    PASSWORD,
    add_member,
    audit_actions,
    make_org,
    make_user,
    open_session,
)

NEW_PASSWORD = "another long passphrase"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


# --- profile -----------------------------------------------------------------------------------


def test_name_change_is_saved_and_audited(session):
    user = make_user(session)
    org = make_org(session, user)
    account_settings.update_profile(session, user=user, first_name=" Ada ", last_name="Lovelace")
    session.commit()
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert audit_actions(session, org.id)[-1] == "account.name_changed"


@pytest.mark.parametrize(
    ("first", "last", "field"), [("", "L", "first_name"), ("A", "x\ny", "last_name")]
)
def test_bad_names_are_refused_on_their_field(session, first, last, field):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        account_settings.update_profile(session, user=user, first_name=first, last_name=last)
    assert list(err.value.errors) == [field]


# --- password ----------------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one(session):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        account_settings.change_password(
            session,
            user=user,
            current_session_id=0,
            current_password="wrong password",
            password=NEW_PASSWORD,
        )
    assert err.value.errors == {"current_password": "Your current password is incorrect."}
    assert security.verify_password(PASSWORD, session.get(User, user.id).password_hash)


def test_wrong_current_passwords_count_toward_the_lockout(session):
    user = make_user(session)
    for _ in range(settings.login_max_failures):
        with pytest.raises(ValidationFailed):
            account_settings.change_password(
                session,
                user=user,
                current_session_id=0,
                current_password="guess",
                password=NEW_PASSWORD,
            )
    assert len(session.exec(select(LoginAttempt)).all()) == settings.login_max_failures
    with pytest.raises(AccountLocked):
        account_settings.change_password(
            session,
            user=user,
            current_session_id=0,
            current_password=PASSWORD,
            password=NEW_PASSWORD,
        )


def test_a_new_password_follows_the_registration_rules(session):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        account_settings.change_password(
            session, user=user, current_session_id=0, current_password=PASSWORD, password="short"
        )
    assert "password" in err.value.errors


def test_changing_the_password_ends_every_other_session(session):
    user = make_user(session)
    org = make_org(session, user)
    mine, current = open_session(session, user)
    other, _ = open_session(session, user)
    key, _ = api_keys.create_key(
        session, user=user, name="made with a stolen session", active_org_id=None,
        password=PASSWORD,
    )  # fmt: skip
    session.commit()
    ended = account_settings.change_password(
        session,
        user=user,
        current_session_id=current.id,
        current_password=PASSWORD,
        password=NEW_PASSWORD,
    )
    session.commit()
    assert (ended.sessions, ended.api_keys) == (1, 1)
    assert accounts.authenticate(session, mine).session.id == current.id
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, other)
    with pytest.raises(NotAuthenticated, match="revoked"):  # the key dies with the old password
        api_keys.authenticate(session, key)
    [told] = mails(session, api_keys.KEYS_REVOKED)
    assert told.to_address == user.email and "changed your password" in told.body_text
    assert security.verify_password(NEW_PASSWORD, session.get(User, user.id).password_hash)
    assert audit_actions(session, org.id)[-1] == "account.password_changed"


# --- email -------------------------------------------------------------------------------------


def mails(session, kind: str) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        )
    )


def request_change(session, user, new_email="new@example.com", password=PASSWORD) -> str:
    account_settings.request_email_change(
        session, user=user, password=password, new_email=new_email
    )
    session.commit()
    return mails(session, account_settings.EMAIL_CHANGE)[-1].link.rsplit("/", 1)[1]


def test_email_change_mails_the_new_address_tells_the_old_and_waits_for_the_link(session):
    user = make_user(session, "old@example.com")
    org = make_org(session, user)
    token = request_change(session, user, " New@Example.com ")
    assert session.get(User, user.id).email == "old@example.com"  # not yet
    [confirm] = mails(session, account_settings.EMAIL_CHANGE)
    [notice] = mails(session, account_settings.EMAIL_CHANGE_NOTICE)
    assert confirm.to_address == "new@example.com" and "/account/email/" in confirm.link
    assert notice.to_address == "old@example.com" and "new@example.com" in notice.body_text
    assert account_settings.pending_email_change(session, user=user) == "new@example.com"

    account_settings.confirm_email_change(session, token=token)
    session.commit()
    changed = session.get(User, user.id)
    assert changed.email == "new@example.com" and changed.email_confirmed_at is not None
    assert account_settings.pending_email_change(session, user=user) == ""
    assert audit_actions(session, org.id)[-2:] == [
        "account.email_change_requested",
        "account.email_changed",
    ]
    with pytest.raises(InvalidToken, match="already been used"):
        account_settings.confirm_email_change(session, token=token)


def test_email_change_needs_the_current_password(session):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        account_settings.request_email_change(
            session, user=user, password="nope", new_email="new@example.com"
        )
    assert err.value.errors == {"email_password": "Your current password is incorrect."}
    session.rollback()
    assert mails(session, account_settings.EMAIL_CHANGE) == []


def test_an_address_of_another_account_is_answered_like_any_other(session, monkeypatch):
    """The form must not tell which addresses have accounts. Same
    answer, same waiting change on the page, same notice to the current address; the taken
    address is told that nothing changed (no link), and it counts in the mail throttle."""
    user = make_user(session, "asker@example.com")
    make_user(session, "taken@example.com")
    free = account_settings.request_email_change(
        session, user=user, password=PASSWORD, new_email="free@example.com"
    )
    session.commit()
    taken = account_settings.request_email_change(
        session, user=user, password=PASSWORD, new_email="TAKEN@example.com"
    )
    session.commit()
    assert (free, taken) == ("free@example.com", "taken@example.com")
    assert account_settings.pending_email_change(session, user=user) == "taken@example.com"
    to_taken = [m for m in mails(session, account_settings.EMAIL_CHANGE) if m.to_address == taken]
    assert len(to_taken) == 1 and to_taken[0].link == ""  # nothing to open: no account moves
    assert "already has an orgportal account" in to_taken[0].body_text
    notices = mails(session, account_settings.EMAIL_CHANGE_NOTICE)
    assert [n.to_address for n in notices] == ["asker@example.com"] * 2
    # counted like any change mail: over the throttle, a taken address is refused the same way
    monkeypatch.setattr(settings, "mail_throttle_per_hour", 1)
    for address in ("taken@example.com", "free@example.com"):
        with pytest.raises(TooManyRequests):
            account_settings.request_email_change(
                session, user=user, password=PASSWORD, new_email=address
            )


def test_the_own_address_and_bad_addresses_are_refused(session):
    user = make_user(session)
    for address in (user.email, "not an email"):
        with pytest.raises(ValidationFailed) as err:
            account_settings.request_email_change(
                session, user=user, password=PASSWORD, new_email=address
            )
        assert "new_email" in err.value.errors


def test_an_address_taken_before_the_link_is_used_is_not_changed(session):
    user = make_user(session, "mine@example.com")
    token = request_change(session, user, "contested@example.com")
    make_user(session, "contested@example.com")
    with pytest.raises(Conflict):
        account_settings.confirm_email_change(session, token=token)
    session.rollback()
    assert session.get(User, user.id).email == "mine@example.com"


def test_an_expired_email_link_says_so(session):
    user = make_user(session)
    token = request_change(session, user)
    row = session.exec(select(UserToken).where(UserToken.new_email != "")).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    with pytest.raises(InvalidToken, match="expired"):
        account_settings.confirm_email_change(session, token=token)


def test_email_change_mails_are_throttled(session, monkeypatch):
    monkeypatch.setattr(settings, "mail_throttle_per_hour", 1)
    user = make_user(session)
    request_change(session, user, "first@example.com")
    with pytest.raises(TooManyRequests):
        account_settings.request_email_change(
            session, user=user, password=PASSWORD, new_email="second@example.com"
        )


def test_the_changed_email_cancels_reset_links_sent_to_the_old_one(session):
    user = make_user(session)
    password_reset.request_reset(session, email=user.email)
    session.commit()
    reset = mails(session, password_reset.PASSWORD_RESET)[0].link.rsplit("/", 1)[1]
    account_settings.confirm_email_change(session, token=request_change(session, user))
    session.commit()
    with pytest.raises(InvalidToken):
        password_reset.check_link(session, token=reset)


# --- sessions ----------------------------------------------------------------------------------


def signed_in(session, user, agent: str, address: str):
    raw, row = open_session(session, user)
    user_sessions.record_client(row, user_agent=agent, address=address)
    session.commit()
    return raw, row


def test_sessions_list_browser_os_address_and_mark_the_current_one(session):
    user = make_user(session)
    someone_else = make_user(session)
    signed_in(session, someone_else, CHROME, "192.0.2.9")
    _, current = signed_in(session, user, CHROME, "192.0.2.1")
    _, other = signed_in(session, user, FIREFOX, "2001:db8::1")
    page = user_sessions.list_sessions(session, user=user, current_id=current.id)
    assert page.total == 2
    assert [(s.id, s.current) for s in page.sessions] == [(current.id, True), (other.id, False)]
    assert page.sessions[0].browser == "Chrome 131 on Linux"
    assert page.sessions[1].browser == "Firefox 133 on Windows"
    assert page.sessions[1].address == "2001:db8::1"
    assert page.sessions[0].created_at is not None and page.sessions[0].last_seen_at is not None


def test_the_sessions_list_is_paginated_on_the_server(session):
    user = make_user(session)
    for _ in range(5):
        open_session(session, user)
    session.commit()
    page = user_sessions.list_sessions(session, user=user, current_id=0, offset=2, limit=2)
    assert page.total == 5 and len(page.sessions) == 2


def test_last_seen_is_written_at_most_once_a_minute(session):
    user = make_user(session)
    raw, row = open_session(session, user)
    session.commit()
    accounts.authenticate(session, raw)
    first = row.last_seen_at
    assert first is not None
    accounts.authenticate(session, raw)
    assert row.last_seen_at == first  # no write within the minute
    row.last_seen_at = utcnow() - timedelta(minutes=2)
    accounts.authenticate(session, raw)
    assert row.last_seen_at > first


def test_sign_out_one_session_stops_it_at_once(session):
    user = make_user(session)
    org = make_org(session, user)
    _, current = signed_in(session, user, CHROME, "192.0.2.1")
    raw_other, other = signed_in(session, user, FIREFOX, "192.0.2.2")
    user_sessions.revoke_session(session, user=user, session_id=other.id)
    session.commit()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw_other)
    assert audit_actions(session, org.id)[-1] == "account.session_revoked"
    with pytest.raises(NotFound):
        user_sessions.revoke_session(session, user=user, session_id=other.id)


def test_another_users_session_cannot_be_signed_out(session):
    user = make_user(session)
    raw, theirs = open_session(session, make_user(session))
    session.commit()
    with pytest.raises(NotFound):
        user_sessions.revoke_session(session, user=user, session_id=theirs.id)
    assert accounts.authenticate(session, raw)


def test_sign_out_everywhere_else_keeps_only_this_session(session):
    user = make_user(session)
    org = make_org(session, user)
    raw, current = open_session(session, user)
    others = [open_session(session, user)[0] for _ in range(3)]
    key, _ = api_keys.create_key(
        session, user=user, name="minted by a thief", active_org_id=None, password=PASSWORD
    )
    session.commit()
    done = account_settings.sign_out_everywhere_else(
        session, user=user, current_session_id=current.id
    )
    session.commit()
    assert (done.sessions, done.api_keys) == (3, 1)
    assert accounts.authenticate(session, raw)
    for token in others:
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, token)
    with pytest.raises(NotAuthenticated, match="revoked"):  # the key ends too
        api_keys.authenticate(session, key)
    assert audit_actions(session, org.id)[-1] == "account.sessions_revoked"
    assert mails(session, api_keys.KEYS_REVOKED)[0].to_address == user.email


# --- delete ------------------------------------------------------------------------------------


def delete(session, user, *, password=PASSWORD, email=None):
    account_settings.delete_account(
        session,
        user=user,
        password=password,
        confirm_email=user.email if email is None else email,
        gateway=TestModeBilling(session),
    )


def test_an_owner_cannot_delete_their_account_and_is_told_which_organizations(session):
    user = make_user(session)
    make_org(session, user, "Acme")
    make_org(session, user, "Beta")
    assert account_settings.owned_organizations(session, user=user) == ["Acme", "Beta"]
    with pytest.raises(Conflict, match="You own Acme, Beta"):
        delete(session, user)
    session.rollback()
    assert session.get(User, user.id) is not None


def test_deleting_needs_the_password_and_the_typed_email(session):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as err:
        delete(session, user, email="someone@else.com")
    assert "confirm_email" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        delete(session, user, password="wrong password!")
    assert err.value.errors == {"delete_password": "Your current password is incorrect."}
    assert session.get(User, user.id) is not None


@pytest.fixture
def data_dir(engine, monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(db, "bus", lambda: InProcessBus())
    return tmp_path


def test_deleting_ends_memberships_removes_personal_items_and_keeps_the_audit_email(
    engine, data_dir
):
    with db.unit_of_work(engine) as session:
        owner = make_user(session)
        org = make_org(session, owner, "Acme")
        user = add_member(session, org, Role.ADMIN, make_user(session, "leaver@example.com"))
        upload = partial(files.upload_file, session, user=user)
        personal_file = upload(organization_id=None, name="mine.txt", data=b"mine")
        org_file = upload(organization_id=org.id, name="team.txt", data=b"team")
        links.create_link(session, user=user, organization_id=None, target_url="https://a.example")
        team_link = links.create_link(
            session, user=user, organization_id=org.id, target_url="https://b.example"
        )
        session.add(  # the team link's analytics stay with the organization too
            Click(token="click-1", link_id=team_link.id, organization_id=org.id, owner_id=user.id)
        )
        raw, _ = open_session(session, user)
        account_settings.update_profile(session, user=user, first_name="Lea", last_name="Ver")
        user_id = user.id
        personal_path = settings.files_dir / personal_file.storage_key
        org_path = settings.files_dir / org_file.storage_key
    assert personal_path.is_file()
    with db.unit_of_work(engine) as session:
        user = session.get(User, user_id)
        delete(session, user)
    with Session(engine) as session:
        assert session.get(User, user_id) is None
        assert session.exec(select(Membership).where(Membership.user_id == user_id)).all() == []
        assert session.exec(select(UserSession).where(UserSession.user_id == user_id)).all() == []
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, raw)
        # personal link and file gone (bytes too); the organization's pass to its owner
        assert [link.id for link in session.exec(select(Link))] == [team_link.id]
        assert session.get(Link, team_link.id).owner_id == owner.id
        assert [f.id for f in session.exec(select(StoredFile))] == [org_file.id]
        assert session.get(StoredFile, org_file.id).owner_id == owner.id
        assert not personal_path.exists() and org_path.is_file()
        assert session.exec(select(Click.owner_id)).all() == [owner.id]
        events = session.exec(
            select(AuditEvent).where(AuditEvent.actor_id == user_id).order_by(col(AuditEvent.id))
        ).all()
        assert [e.action for e in events] == ["account.name_changed", "account.deleted"]
        assert {e.actor_email for e in events} == {"leaver@example.com"}
        assert "leaver@example.com" in events[-1].summary


def test_deleting_cancels_a_personal_plan_first(session):
    user = make_user(session)
    gateway = TestModeBilling(session)
    url = billing.start_personal_checkout(
        session, gateway, user=user, plan_key="starter", interval="monthly"
    )
    billing.pay_test_checkout(session, gateway, user=user, checkout_id=url.rsplit("/", 1)[1])
    session.commit()
    stripe_ids = [s.stripe_subscription_id for s in session.exec(select(Subscription))]
    assert stripe_ids
    account_settings.delete_account(
        session, user=user, password=PASSWORD, confirm_email=user.email, gateway=gateway
    )
    session.commit()
    from orgportal.models import TestModeSubscription

    assert {session.get(TestModeSubscription, s).status for s in stripe_ids} == {"canceled"}
    assert session.exec(select(Subscription)).all() == []
