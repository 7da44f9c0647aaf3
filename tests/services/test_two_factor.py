"""Two-factor sign-in (SPEC §13): set-up, sign-in second step, replay, recovery codes,
lockout, turning off, and the secret stored encrypted."""

import pyotp
import pytest
from sqlmodel import Session, select

from orgportal.config import settings
from orgportal.models import LoginAttempt, RecoveryCode, TwoFactor, UserSession
from orgportal.services import accounts, secret_box, two_factor
from orgportal.services.errors import (
    AccountLocked,
    Conflict,
    InvalidCredentials,
    InvalidToken,
    ValidationFailed,
)
from tests.factories import BROWSER, PASSWORD, audit_actions, make_org, make_user

NOW = 1_800_000_000.0  # a fixed moment, in the middle of a 30-second step
STEP = int(NOW // 30)


@pytest.fixture(autouse=True)
def fixed_clock_and_key(monkeypatch, secret_key):
    monkeypatch.setattr(two_factor, "clock", lambda: NOW)


def code(secret: str, step_offset: int = 0) -> str:
    return pyotp.TOTP(secret).generate_otp(STEP + step_offset)


def enable(session: Session, user) -> tuple[str, list[str]]:
    """Two-factor sign-in on for `user`, confirmed with the code one step back (so the
    current step's code is still unused); returns the secret and the recovery codes."""
    setup = two_factor.start_setup(session, user=user)
    codes = two_factor.confirm_setup(session, user=user, code=code(setup.secret, -1))
    session.commit()
    return setup.secret, codes


def second_step(session: Session, user) -> str:
    step = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    session.commit()
    assert isinstance(step, accounts.SecondStep)
    return step.challenge


# --- set up ----------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret_and_needs_a_current_code(session):
    user = make_user(session)
    setup = two_factor.start_setup(session, user=user)
    assert setup.qr_data_uri.startswith("data:image/svg+xml")
    assert f"secret={setup.secret}" in setup.uri and "issuer=orgportal" in setup.uri
    with pytest.raises(ValidationFailed) as refused:
        two_factor.confirm_setup(session, user=user, code=code(setup.secret, 2))
    assert "code" in refused.value.errors
    assert not two_factor.is_enabled(session, user.id)
    codes = two_factor.confirm_setup(session, user=user, code=code(setup.secret))
    assert two_factor.is_enabled(session, user.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.recovery_codes_left(session, user) == 10


def test_the_secret_is_stored_encrypted_and_recovery_codes_hashed(session):
    user = make_user(session)
    secret, codes = enable(session, user)
    row = session.get(TwoFactor, user.id)
    assert secret not in row.secret_box
    assert secret_box.open_box(row.secret_box) == secret
    stored = {r.code_hash for r in session.exec(select(RecoveryCode))}
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)


def test_a_tampered_box_or_another_key_does_not_open(monkeypatch):
    box = secret_box.seal("JBSWY3DPEHPK3PXP")
    tampered = box[:-4] + ("AAAA" if not box.endswith("AAAA") else "BBBB")
    with pytest.raises(secret_box.SecretBoxError):
        secret_box.open_box(tampered)
    monkeypatch.setattr(settings, "secret_key", "another key")
    secret_box._master_key.cache_clear()
    with pytest.raises(secret_box.SecretBoxError):
        secret_box.open_box(box)


def test_without_a_configured_key_one_is_made_once_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "secret_key", None)
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    secret_box._master_key.cache_clear()
    box = secret_box.seal("secret")
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret_box._master_key.cache_clear()  # a restart reads the same key
    assert secret_box.open_box(box) == "secret"


def test_setup_twice_is_refused_once_on(session):
    user = make_user(session)
    enable(session, user)
    with pytest.raises(Conflict):
        two_factor.start_setup(session, user=user)


def test_turning_on_and_off_is_audited_in_the_users_organizations(session):
    user = make_user(session)
    org = make_org(session, user)
    secret, _ = enable(session, user)
    two_factor.disable(session, user=user, password=PASSWORD, code=code(secret))
    session.commit()
    actions = audit_actions(session, org.id)
    assert actions[-2:] == ["security.two_factor_enabled", "security.two_factor_disabled"]


# --- sign in ---------------------------------------------------------------------------------


def test_sign_in_needs_the_code_and_issues_no_ticket_before_it(session):
    user = make_user(session)
    secret, _ = enable(session, user)
    challenge = second_step(session, user)
    # The challenge is not a sign-in ticket: it opens no session.
    with pytest.raises(InvalidToken):
        accounts.open_session(session, challenge, browser=BROWSER)
    ticket = two_factor.complete_sign_in(
        session, challenge=challenge, code=code(secret), browser=BROWSER
    )
    raw, _ = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    assert accounts.authenticate(session, raw).user.id == user.id
    # the challenge is single-use
    with pytest.raises(InvalidToken):
        two_factor.complete_sign_in(
            session, challenge=challenge, code=code(secret, 1), browser=BROWSER
        )


def test_codes_one_step_either_side_count_but_not_two(session):
    user = make_user(session)
    secret, _ = enable(session, user)  # used step -1
    for offset in (-2, 2):
        challenge = second_step(session, user)
        with pytest.raises(two_factor.InvalidCode):
            two_factor.complete_sign_in(
                session, challenge=challenge, code=code(secret, offset), browser=BROWSER
            )
    challenge = second_step(session, user)
    assert two_factor.complete_sign_in(
        session, challenge=challenge, code=code(secret, 1), browser=BROWSER
    )


def test_a_code_is_accepted_once_replay_is_refused(session):
    user = make_user(session)
    secret, _ = enable(session, user)
    challenge = second_step(session, user)
    two_factor.complete_sign_in(session, challenge=challenge, code=code(secret), browser=BROWSER)
    session.commit()
    challenge = second_step(session, user)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(
            session, challenge=challenge, code=code(secret), browser=BROWSER
        )
    # an older step than one already used is refused as well
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(
            session, challenge=challenge, code=code(secret, -1), browser=BROWSER
        )


def test_a_recovery_code_signs_in_once_and_is_audited(session):
    user = make_user(session)
    org = make_org(session, user)
    _, codes = enable(session, user)
    challenge = second_step(session, user)
    assert two_factor.complete_sign_in(
        session, challenge=challenge, code=codes[3].upper(), browser=BROWSER
    )
    session.commit()
    assert two_factor.recovery_codes_left(session, user) == 9
    assert audit_actions(session, org.id)[-1] == "security.recovery_code_used"
    challenge = second_step(session, user)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(session, challenge=challenge, code=codes[3], browser=BROWSER)


def test_five_wrong_codes_lock_like_wrong_passwords(engine, session):
    user = make_user(session)
    secret, _ = enable(session, user)
    challenge = second_step(session, user)
    for _ in range(5):
        with pytest.raises(two_factor.InvalidCode):
            two_factor.complete_sign_in(
                session, challenge=challenge, code="000000", browser=BROWSER
            )
        session.rollback()  # as unit_of_work does: the failure was committed before
    with Session(engine) as fresh:
        failures = fresh.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)).all()
        assert [a.succeeded for a in failures] == [False] * 5
    with pytest.raises(AccountLocked):
        two_factor.complete_sign_in(
            session, challenge=challenge, code=code(secret), browser=BROWSER
        )
    with pytest.raises(AccountLocked):
        accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(session):
    user = make_user(session)
    enable(session, user)
    for _ in range(3):
        challenge = second_step(session, user)
        with pytest.raises(two_factor.InvalidCode):
            two_factor.complete_sign_in(
                session, challenge=challenge, code="123456", browser=BROWSER
            )
        session.rollback()
    with pytest.raises(InvalidCredentials):
        accounts.sign_in(session, email=user.email, password="wrong password!", browser=BROWSER)
    session.rollback()
    challenge = second_step(session, user)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(session, challenge=challenge, code="123456", browser=BROWSER)
    session.rollback()
    with pytest.raises(AccountLocked):
        accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)


def test_the_challenge_works_only_in_the_browser_that_signed_in(session):
    user = make_user(session)
    secret, _ = enable(session, user)
    challenge = second_step(session, user)
    with pytest.raises(InvalidToken):
        two_factor.complete_sign_in(
            session, challenge=challenge, code=code(secret), browser="another browser"
        )


def test_users_without_two_factor_still_get_a_ticket_at_once(session):
    user = make_user(session)
    ticket = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    assert isinstance(ticket, str)
    accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    assert session.exec(select(UserSession)).one().user_id == user.id


# --- turn off, new codes -------------------------------------------------------------------


def test_turning_off_needs_the_password_and_a_current_code(session):
    user = make_user(session)
    secret, _ = enable(session, user)
    with pytest.raises(ValidationFailed) as refused:
        two_factor.disable(session, user=user, password="wrong password!", code=code(secret))
    assert "password" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        two_factor.disable(session, user=user, password=PASSWORD, code="999999")
    assert "code" in refused.value.errors
    assert two_factor.is_enabled(session, user.id)
    two_factor.disable(session, user=user, password=PASSWORD, code=code(secret))
    session.commit()
    assert not two_factor.is_enabled(session, user.id)
    assert session.exec(select(RecoveryCode)).all() == []
    ticket = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    assert isinstance(ticket, str)


def test_new_recovery_codes_replace_the_old_ones(session):
    user = make_user(session)
    secret, old = enable(session, user)
    new = two_factor.regenerate_recovery_codes(session, user=user, code=code(secret))
    session.commit()
    assert not set(old) & set(new)
    challenge = second_step(session, user)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(session, challenge=challenge, code=old[0], browser=BROWSER)
    assert two_factor.complete_sign_in(
        session, challenge=challenge, code=new[0], browser=BROWSER
    )


def test_the_recovery_codes_file_lists_every_code():
    text = two_factor.recovery_codes_text(["aaaa-bbbb", "cccc-dddd"])
    assert "aaaa-bbbb\ncccc-dddd\n" in text
