"""Account pre-hijacking through an unconfirmed sign-up and a long-lived
API key (SPEC §1). An unconfirmed account can do nothing that outlives the confirmation; when
someone else proves the address (a reset link, an invitation), what it set up is cleared; a
reset, a password change and "Sign out everywhere else" revoke the user's API keys; a new key
asks for the password (or a current two-factor code) again."""

import pyotp
import pytest
from sqlmodel import Session, col, select

from orgportal import security
from orgportal.models import (
    ApiKey,
    Link,
    Membership,
    Organization,
    OutboxMessage,
    Passkey,
    User,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    accounts,
    api_keys,
    invitations,
    links,
    password_reset,
    two_factor,
)
from orgportal.services.errors import (
    AccountLocked,
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import PASSWORD, audit_actions, make_org, make_user, open_session
from tests.services.test_invitations import invite, viewer_for
from tests.services.test_password_reset import NEW_PASSWORD, ask

VICTIM = "victim@example.com"


pytestmark = pytest.mark.usefixtures("secret_key")  # tests/conftest.py


def key_for(session: Session, user: User, **proof) -> str:
    raw, _ = api_keys.create_key(session, user=user, name="k", active_org_id=None, **proof)
    session.commit()
    return raw


# --- nothing that outlives the confirmation ---------------------------------------------------


def test_an_unconfirmed_account_gets_no_api_key(session: Session):
    squatter = make_user(session, VICTIM, confirmed=False)
    with pytest.raises(PermissionDenied, match="Confirm your email address"):
        key_for(session, squatter, password=PASSWORD)
    session.rollback()
    assert session.exec(select(ApiKey)).all() == []


def test_a_new_key_asks_for_the_password_again_and_wrong_ones_count(session: Session):
    user = make_user(session)
    for proof in ({}, {"password": "not my password"}):
        with pytest.raises(ValidationFailed) as refused:
            key_for(session, user, **proof)
        assert refused.value.errors == {"key_password": accounts.WRONG_PASSWORD}
    assert key_for(session, user, password=PASSWORD).startswith("op_")
    for _ in range(3):  # 2 + 3 wrong: the sign-in lockout counts them
        with pytest.raises(ValidationFailed):
            key_for(session, user, password="wrong")
    with pytest.raises(AccountLocked):
        key_for(session, user, password=PASSWORD)


def test_with_two_factor_on_a_current_code_stands_in_for_the_password(session: Session):
    user = make_user(session)
    setup = two_factor.start_setup(session, user=user)
    totp = pyotp.TOTP(setup.secret)
    two_factor.confirm_setup(session, user=user, code=totp.now())
    session.commit()
    fresh = totp.at(utcnow().timestamp() + 30)  # the next step: the current one was used
    assert key_for(session, user, code=fresh).startswith("op_")
    with pytest.raises(ValidationFailed) as replayed:  # the same code again is a replay
        key_for(session, user, code=fresh)
    assert replayed.value.errors == {"key_code": "That code is not valid."}


def test_accepting_an_invite_signed_in_confirms_the_address_then_joins(session: Session):
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner)
    member = make_user(session, VICTIM, confirmed=False)
    token = invite(session, owner, org, VICTIM)
    invitations.accept_invite(session, viewer=viewer_for(session, member), token=token)
    session.commit()
    assert session.get(User, member.id).email_confirmed_at is not None
    assert session.exec(select(Membership).where(Membership.user_id == member.id)).one()


# --- the confirmation link needs its account's session --------------------------------------


def confirmation_token(session: Session, user: User) -> str:
    mail = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == user.email, OutboxMessage.kind == "confirm_email")
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    return mail.link.rsplit("/", 1)[-1]


def test_a_confirmation_link_confirms_only_where_its_account_is_signed_in(session: Session):
    squatter = make_user(session, VICTIM, confirmed=False)
    token = confirmation_token(session, squatter)
    stranger = make_user(session)
    for who in (None, stranger.id):  # the mailbox's owner clicking, signed out or as another
        with pytest.raises(accounts.SignInToConfirm, match="reset its password"):
            accounts.confirm_email(session, token, signed_in_user_id=who)
        session.rollback()
    assert session.get(User, squatter.id).email_confirmed_at is None  # the link still waits
    accounts.confirm_email(session, token, signed_in_user_id=squatter.id)
    session.commit()
    assert session.get(User, squatter.id).email_confirmed_at is not None


# --- the pre-hijack path: proven by someone else, the account is cleared ----------------------


def squat(session: Session) -> tuple[User, str, int, str]:
    """The attacker registers the victim's address, never confirms it, signs in, and sets up
    what would outlive a takeover: an organization, a personal link, two-factor sign-in, and
    (made before this fix) an API key. Returns the account, its session, the org id and the
    key."""
    squatter = make_user(session, VICTIM, confirmed=False)
    raw_session, _ = open_session(session, squatter)
    org = make_org(session, squatter, "Victim Co (fake)")
    links.create_link(
        session, user=squatter, organization_id=None, target_url="https://phish.example"
    )
    setup = two_factor.start_setup(session, user=squatter)
    two_factor.confirm_setup(session, user=squatter, code=pyotp.TOTP(setup.secret).now())
    old_key = "op_" + security.new_token()
    session.add(  # as a key made before unconfirmed accounts were refused them
        ApiKey(user_id=squatter.id, name="kept", prefix=old_key[:11],
               key_hash=security.token_hash(old_key), active_org_id=None)
    )  # fmt: skip
    session.add(  # as a passkey made before unconfirmed accounts were refused them
        Passkey(user_id=squatter.id, name="attacker's key", credential_id="c3F1YXR0ZXI",
                public_key="cGs", user_handle="aA")
    )  # fmt: skip
    session.commit()
    return squatter, raw_session, org.id, old_key


def test_a_reset_link_clears_the_unconfirmed_account_before_its_owner_takes_it_over(
    session: Session,
):
    squatter, raw_session, org_id, old_key = squat(session)
    owner = make_user(session, "boss@example.com")
    team = make_org(session, owner, "Real Team")
    token = invite(session, owner, team, VICTIM)

    done = password_reset.reset_password(session, token=ask(session, VICTIM), password=NEW_PASSWORD)
    session.commit()
    assert done.reclaimed is not None and done.reclaimed.organizations == ("Victim Co (fake)",)
    user = session.get(User, squatter.id)
    assert user.email_confirmed_at is not None
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw_session)
    with pytest.raises(NotAuthenticated, match="revoked"):
        api_keys.authenticate(session, old_key)
    assert session.get(Organization, org_id) is None
    assert session.exec(select(Link).where(Link.owner_id == user.id)).all() == []
    # the attacker's codes would lock her out, and the passkey would let him back in
    assert not two_factor.is_enabled(session, user.id)
    assert session.exec(select(Passkey).where(Passkey.user_id == user.id)).all() == []

    # the owner signs in with her own password, no code asked, and accepts the invitation
    ticket = accounts.sign_in(session, email=VICTIM, password=NEW_PASSWORD, browser="b")
    assert isinstance(ticket, str)
    invitations.accept_invite(session, viewer=viewer_for(session, user), token=token)
    session.commit()
    assert "account.reclaimed" not in audit_actions(session, team.id)  # before she joined
    assert session.exec(select(Membership).where(Membership.user_id == user.id)).one()


def test_an_invitation_takes_over_an_unconfirmed_account_with_a_fresh_password(session: Session):
    squatter, raw_session, org_id, old_key = squat(session)
    owner = make_user(session, "boss@example.com")
    team = make_org(session, owner, "Real Team")
    token = invite(session, owner, team, VICTIM)
    details = invitations.inspect_invite(session, token)
    assert details.has_account and details.account_unconfirmed  # the page offers both ways

    user, joined = invitations.accept_as_new_user(
        session, token=token, password=NEW_PASSWORD, first_name="Real", last_name="Owner"
    )
    session.commit()
    assert (user.id, joined) == (squatter.id, team.id)
    assert user.display_name == "Real Owner" and user.email_confirmed_at is not None
    assert security.verify_password(NEW_PASSWORD, user.password_hash)
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, raw_session)
    with pytest.raises(NotAuthenticated):
        api_keys.authenticate(session, old_key)
    assert session.get(Organization, org_id) is None


def test_a_confirmed_account_is_never_cleared_by_an_invitation_form(session: Session):
    owner = make_user(session, "boss@example.com")
    team = make_org(session, owner, "Real Team")
    make_user(session, VICTIM)
    token = invite(session, owner, team, VICTIM)
    with pytest.raises(Exception, match="Sign in to accept"):
        invitations.accept_as_new_user(
            session, token=token, password=NEW_PASSWORD, first_name="A", last_name="B"
        )


def test_a_reset_revokes_the_api_keys_of_a_confirmed_account_too_and_says_so(session: Session):
    user = make_user(session)
    key = key_for(session, user, password=PASSWORD)
    done = password_reset.reset_password(
        session, token=ask(session, user.email), password=NEW_PASSWORD
    )
    session.commit()
    assert (done.api_keys_revoked, done.reclaimed) == (1, None)
    with pytest.raises(NotAuthenticated, match="revoked"):
        api_keys.authenticate(session, key)
