"""Passkeys (SPEC §16): registration, the second step after the password, the password-less
sign-in, removal, the audit trail, and the refusals (wrong origin, wrong relying party,
replayed, expired or another browser's challenge, another user's passkey, a sign counter
that went backwards, no user verification where the passkey stands for both factors).

The authenticator on the other side is `soft-webauthn`'s software token (an independent
implementation, signing with its own P-256 key); the only glue here is what a browser does
between it and the page: decoding the JSON options and encoding its answer as
`PublicKeyCredential.toJSON()` would (base64url).
"""

import hashlib
import json
from datetime import timedelta

import pyotp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from soft_webauthn import SoftWebauthnDevice
from sqlmodel import Session, select
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from orgportal.config import settings
from orgportal.models import (
    CompanyDomain,
    DomainStatus,
    LoginAttempt,
    Passkey,
    PasskeyChallenge,
    Role,
    SsoConnection,
    Subscription,
)
from orgportal.models.base import utcnow
from orgportal.services import accounts, org_security, passkeys, two_factor
from orgportal.services.errors import (
    AccountLocked,
    InvalidToken,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.passkeys import PasskeyRefused
from orgportal.services.sso_enforcement import PasswordRefused
from tests.factories import BROWSER, PASSWORD, add_member, audit_actions, make_org, make_user

ORIGIN = "https://portal.example"

pytestmark = pytest.mark.usefixtures("secret_key")


@pytest.fixture(autouse=True)
def public_url(monkeypatch):
    monkeypatch.setattr(settings, "public_url", ORIGIN)


# --- what the browser does between the page and the authenticator ------------------------


def public_key(options_json: str) -> dict:
    """`PublicKeyCredential.parse…OptionsFromJSON`: base64url strings back to bytes."""
    options = json.loads(options_json)
    options["challenge"] = base64url_to_bytes(options["challenge"])
    if "user" in options:
        options["user"]["id"] = base64url_to_bytes(options["user"]["id"])
    return {"publicKey": options}


def to_json(credential: dict) -> str:
    """`PublicKeyCredential.toJSON()`: the answer with its bytes as base64url."""
    response = {
        key: bytes_to_base64url(value)
        for key, value in credential["response"].items()
        if value is not None
    }
    raw_id = bytes_to_base64url(credential["rawId"])
    return json.dumps({"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response})


def register(session: Session, user, device: SoftWebauthnDevice, name: str = "Laptop",
             *, origin: str = ORIGIN, browser: str = BROWSER) -> Passkey:
    options = passkeys.begin_registration(
        session, user=user, name=name, password=PASSWORD, code="", browser=BROWSER
    )
    answer = to_json(device.create(public_key(options), origin))
    passkey = passkeys.finish_registration(session, user=user, answer=answer, browser=browser)
    session.commit()
    return passkey  # fmt: skip


def second_step(session: Session, user) -> str:
    step = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    session.commit()
    assert isinstance(step, accounts.SecondStep)
    return step.challenge


def passkey_answer(session: Session, challenge: str, device: SoftWebauthnDevice) -> str:
    options = passkeys.begin_second_step(session, challenge=challenge, browser=BROWSER)
    session.commit()
    return to_json(device.get(public_key(options), ORIGIN))


def refused(session: Session, call, reason: str) -> PasskeyRefused:
    with pytest.raises(PasskeyRefused) as exc:
        call()
    session.rollback()
    assert reason in exc.value.reason, exc.value.reason
    return exc.value


# --- register ------------------------------------------------------------------------------


def test_register_a_passkey_with_a_name_after_the_password(session):
    user = make_user(session)
    org = make_org(session, user)
    options = json.loads(
        passkeys.begin_registration(
            session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
        )
    )
    assert options["rp"] == {"id": "portal.example", "name": "orgportal"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert user.email not in options["user"]["id"]  # an opaque handle, not the address
    session.rollback()
    passkey = register(session, user, SoftWebauthnDevice())
    assert passkey.name == "Laptop" and passkey.sign_count == 0
    assert [p.name for p in passkeys.list_passkeys(session, user=user)] == ["Laptop"]
    assert two_factor.is_enabled(session, user.id) and not two_factor.totp_enabled(
        session, user.id
    )
    assert "security.passkey_added" in audit_actions(session, org.id)
    # the challenge is kept hashed with the browser nonce, never as it was sent
    stored = session.exec(select(PasskeyChallenge)).all()
    assert stored and all(options["challenge"] not in row.token_hash for row in stored)


def test_an_unconfirmed_account_cannot_add_a_passkey(session):
    """A passkey would outlive the owner of the address proving it (SPEC §1)."""
    user = make_user(session, confirmed=False)
    with pytest.raises(PermissionDenied, match="Confirm your email address"):
        passkeys.begin_registration(
            session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
        )


def test_registration_needs_the_password_and_a_free_name(session):
    user = make_user(session)
    register(session, user, SoftWebauthnDevice(), "Laptop")
    with pytest.raises(ValidationFailed) as wrong:
        passkeys.begin_registration(
            session, user=user, name="Phone", password="wrong password", code="", browser=BROWSER
        )
    assert "passkey_password" in wrong.value.errors
    for name in ("", "laptop", "x" * 61):
        with pytest.raises(ValidationFailed) as bad:
            passkeys.begin_registration(
                session, user=user, name=name, password=PASSWORD, code="", browser=BROWSER
            )
        assert "passkey_name" in bad.value.errors


def test_a_name_taken_meanwhile_in_another_tab_is_refused(session):
    user = make_user(session)
    options = passkeys.begin_registration(
        session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
    )
    session.commit()
    register(session, user, SoftWebauthnDevice(), "Laptop")  # the other tab, first
    answer = to_json(SoftWebauthnDevice().create(public_key(options), ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER),
        "name taken",
    )
    assert len(passkeys.list_passkeys(session, user=user)) == 1


def test_registration_refuses_another_origin_or_relying_party(session):
    user = make_user(session)
    options = passkeys.begin_registration(
        session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
    )
    session.commit()
    answer = to_json(SoftWebauthnDevice().create(public_key(options), "https://evil.example"))
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER),
        "origin",
    )
    # a phishing page's relying party id: the authenticator scopes the key to it
    options = passkeys.begin_registration(
        session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
    )
    session.commit()
    phished = public_key(options)
    phished["publicKey"]["rp"]["id"] = "evil.example"
    answer = to_json(SoftWebauthnDevice().create(phished, ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER),
        "RP ID",
    )
    assert passkeys.list_passkeys(session, user=user) == []


def test_a_registration_challenge_is_single_use_and_bound_to_its_browser_and_user(session):
    user, other = make_user(session), make_user(session)
    options = passkeys.begin_registration(
        session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
    )
    session.commit()
    answer = to_json(SoftWebauthnDevice().create(public_key(options), ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_registration(
            session, user=user, answer=answer, browser="another-browser"
        ),
        "unknown challenge",
    )
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=other, answer=answer, browser=BROWSER),
        "unknown challenge",
    )
    passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER)
    session.commit()
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER),
        "already used",
    )
    assert len(passkeys.list_passkeys(session, user=user)) == 1


def test_an_expired_challenge_is_refused(session):
    user = make_user(session)
    options = passkeys.begin_registration(
        session, user=user, name="Laptop", password=PASSWORD, code="", browser=BROWSER
    )
    session.commit()
    for row in session.exec(select(PasskeyChallenge)):
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.commit()
    answer = to_json(SoftWebauthnDevice().create(public_key(options), ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer=answer, browser=BROWSER),
        "expired",
    )
    assert passkeys.list_passkeys(session, user=user) == []
    # expired challenges are cleared as new ones are made
    passkeys.begin_sign_in(session, browser=BROWSER)
    session.commit()
    assert [row.purpose for row in session.exec(select(PasskeyChallenge))] == ["sign_in"]


def test_a_browser_that_gave_up_says_so(session):
    user = make_user(session)
    error = refused(
        session,
        lambda: passkeys.finish_registration(
            session, user=user, answer=json.dumps({"error": "NotAllowedError"}), browser=BROWSER
        ),
        "NotAllowedError",
    )
    assert "cancelled" in error.message
    error = refused(
        session,
        lambda: passkeys.finish_registration(
            session, user=user, answer='{"error": "InvalidStateError"}', browser=BROWSER
        ),
        "InvalidStateError",
    )
    assert error.message == "This device already holds a passkey for your account."
    refused(
        session,
        lambda: passkeys.finish_registration(session, user=user, answer="{", browser=BROWSER),
        "not JSON",
    )


# --- second step ------------------------------------------------------------------------------


def test_a_passkey_is_a_second_factor_after_the_password(session):
    user = make_user(session)
    org = make_org(session, user)
    device = SoftWebauthnDevice()
    register(session, user, device)
    step = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    assert isinstance(step, accounts.SecondStep) and step.passkey and not step.code
    session.commit()
    answer = passkey_answer(session, step.challenge, device)
    signed_in = passkeys.finish_second_step(
        session, challenge=step.challenge, answer=answer, browser=BROWSER
    )
    session.commit()
    raw, _ = accounts.open_session(session, signed_in.ticket, browser=BROWSER)
    assert accounts.authenticate(session, raw).user.id == user.id
    row = session.exec(select(Passkey)).one()
    assert row.sign_count == 1 and row.last_used_at is not None
    assert "security.passkey_used" in audit_actions(session, org.id)
    # the step is spent: the same passkey answer, or a new one, cannot reuse it
    with pytest.raises(InvalidToken):
        passkeys.begin_second_step(session, challenge=step.challenge, browser=BROWSER)


def test_the_second_step_refuses_another_users_passkey_and_counts_it(session):
    user, other = make_user(session), make_user(session)
    register(session, user, SoftWebauthnDevice())
    theirs = SoftWebauthnDevice()
    register(session, other, theirs)
    challenge = second_step(session, user)
    answer = passkey_answer(session, challenge, theirs)
    refused(
        session,
        lambda: passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser=BROWSER
        ),
        "another user's passkey",
    )
    failures = session.exec(
        select(LoginAttempt).where(LoginAttempt.email == user.email, LoginAttempt.succeeded == False)  # noqa: E712
    ).all()
    assert len(failures) == 1
    # their passkey's counter did not move
    assert session.exec(select(Passkey).where(Passkey.user_id == other.id)).one().sign_count == 0


def test_a_cancelled_passkey_dialog_is_no_failed_attempt(session):
    user = make_user(session)
    register(session, user, SoftWebauthnDevice())
    challenge = second_step(session, user)
    for _ in range(settings.login_max_failures + 1):
        refused(
            session,
            lambda: passkeys.finish_second_step(
                session, challenge=challenge, answer='{"error": "NotAllowedError"}',
                browser=BROWSER,
            ),
            "NotAllowedError",
        )  # fmt: skip
    assert session.exec(select(LoginAttempt).where(LoginAttempt.succeeded == False)).all() == []  # noqa: E712


def test_a_code_step_of_an_account_with_only_passkeys_refuses_any_code(session):
    user = make_user(session)
    register(session, user, SoftWebauthnDevice())
    challenge = second_step(session, user)
    with pytest.raises(two_factor.InvalidCode):
        two_factor.complete_sign_in(session, challenge=challenge, code="123456", browser=BROWSER)


def test_a_sign_counter_that_went_back_is_a_cloned_authenticator(session):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    challenge = second_step(session, user)
    passkeys.finish_second_step(
        session, challenge=challenge, answer=passkey_answer(session, challenge, device),
        browser=BROWSER,
    )  # fmt: skip
    session.commit()
    device.sign_count -= 1  # the clone's counter is behind the original's
    challenge = second_step(session, user)
    answer = passkey_answer(session, challenge, device)
    refused(
        session,
        lambda: passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser=BROWSER
        ),
        "sign count",
    )


def test_an_assertion_for_another_origin_or_relying_party_is_refused(session):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    challenge = second_step(session, user)
    options = passkeys.begin_second_step(session, challenge=challenge, browser=BROWSER)
    session.commit()
    answer = to_json(device.get(public_key(options), "https://evil.example"))
    refused(
        session,
        lambda: passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser=BROWSER
        ),
        "origin",
    )
    # the same key used for another relying party (the phishing site's id)
    challenge = second_step(session, user)
    options = public_key(passkeys.begin_second_step(session, challenge=challenge, browser=BROWSER))
    session.commit()
    device.rp_id = options["publicKey"]["rpId"] = "evil.example"
    answer = to_json(device.get(options, ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser=BROWSER
        ),
        "RP ID",
    )


def test_a_second_step_answer_is_single_use_and_needs_its_browser(session):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    challenge = second_step(session, user)
    answer = passkey_answer(session, challenge, device)
    with pytest.raises(InvalidToken):  # the password step belongs to the other browser
        passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser="another-browser"
        )
    passkeys.finish_second_step(session, challenge=challenge, answer=answer, browser=BROWSER)
    session.commit()
    challenge = second_step(session, user)  # a new password step, the old passkey answer
    refused(
        session,
        lambda: passkeys.finish_second_step(
            session, challenge=challenge, answer=answer, browser=BROWSER
        ),
        "already used",
    )


def test_a_locked_email_is_refused_before_the_passkey_is_checked(session, monkeypatch):
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    challenge = second_step(session, user)
    answer = passkey_answer(session, challenge, device)
    for _ in range(settings.login_max_failures):
        session.add(LoginAttempt(email=user.email, succeeded=False))
    session.commit()
    with pytest.raises(AccountLocked):
        passkeys.finish_second_step(session, challenge=challenge, answer=answer, browser=BROWSER)


# --- password-less sign-in -------------------------------------------------------------------


def test_password_less_sign_in_needs_user_verification(session):
    """soft-webauthn's token proves presence only (no PIN or biometrics): as the only
    factor, that is refused. (Chromium's virtual authenticator, which verifies the user,
    signs in in tests/e2e/test_passkeys.py.)"""
    user = make_user(session)
    device = SoftWebauthnDevice()
    register(session, user, device)
    options = json.loads(passkeys.begin_sign_in(session, browser=BROWSER))
    assert options["userVerification"] == "required" and not options.get("allowCredentials")
    assert options["rpId"] == "portal.example"
    session.commit()
    answer = to_json(device.get(public_key(json.dumps(options)), ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_sign_in(session, answer=answer, browser=BROWSER),
        "User verification is required",
    )


def test_password_less_sign_in_refuses_unknown_passkeys_and_other_browsers(session):
    user = make_user(session)
    stranger = SoftWebauthnDevice()
    register(session, user, SoftWebauthnDevice())
    stranger.cred_init("portal.example", b"someone else")
    options = passkeys.begin_sign_in(session, browser=BROWSER)
    session.commit()
    answer = to_json(stranger.get(public_key(options), ORIGIN))
    refused(
        session,
        lambda: passkeys.finish_sign_in(session, answer=answer, browser="another-browser"),
        "unknown challenge",
    )
    refused(
        session, lambda: passkeys.finish_sign_in(session, answer=answer, browser=BROWSER),
        "unknown credential",
    )  # fmt: skip
    # the challenge was spent by that refusal
    refused(
        session, lambda: passkeys.finish_sign_in(session, answer=answer, browser=BROWSER),
        "already used",
    )  # fmt: skip


def verified_get(device: SoftWebauthnDevice, options: dict, origin: str) -> dict:
    """soft-webauthn's assertion with the user-verified flag set and signed again: what a
    platform authenticator answers after its PIN or fingerprint (Chromium's virtual one does
    the same in tests/e2e/test_passkeys.py)."""
    credential = device.get(options, origin)
    response = credential["response"]
    data = response["authenticatorData"]
    data = data[:32] + bytes([data[32] | 0x04]) + data[33:]  # UP + UV
    client_hash = hashlib.sha256(response["clientDataJSON"]).digest()
    signature = device.private_key.sign(data + client_hash, ec.ECDSA(hashes.SHA256()))
    credential["response"] = {**response, "authenticatorData": data, "signature": signature}
    return credential


def test_password_less_sign_in_is_refused_where_sso_is_enforced_except_for_the_owner(session):
    owner = make_user(session, "owner@acme.com")
    org = make_org(session, owner, "Acme")
    member = add_member(session, org, Role.AGENT, make_user(session, "bea@acme.com"))
    session.add(
        Subscription(organization_id=org.id, kind="plan", plan_key="unlimited",
                     status="active", stripe_subscription_id=f"sub_sso_{org.id}")
    )  # fmt: skip
    session.add(
        CompanyDomain(organization_id=org.id, domain="acme.com", token="t" * 32,
                      status=DomainStatus.VERIFIED, verified_at=utcnow())
    )  # fmt: skip
    session.add(SsoConnection(organization_id=org.id, tested_at=utcnow(), enforced=True))
    session.commit()
    devices = {who.id: SoftWebauthnDevice() for who in (owner, member)}
    for who in (owner, member):
        register(session, who, devices[who.id])

    def sign_in_with_passkey(who) -> str:
        options = passkeys.begin_sign_in(session, browser=BROWSER)
        session.commit()
        answer = to_json(verified_get(devices[who.id], public_key(options), ORIGIN))
        return passkeys.finish_sign_in(session, answer=answer, browser=BROWSER)

    with pytest.raises(PasswordRefused, match="instead of a passkey"):
        sign_in_with_passkey(member)
    session.rollback()
    assert sign_in_with_passkey(owner)  # break-glass, audited like a password
    session.commit()
    assert audit_actions(session, org.id).count("sso.break_glass_sign_in") == 1


# --- remove, and organizations that require two-factor sign-in ---------------------------------


def test_remove_needs_the_password_or_a_code_and_only_ones_own(session, monkeypatch):
    user, other = make_user(session), make_user(session)
    org = make_org(session, user)
    mine = register(session, user, SoftWebauthnDevice())
    theirs = register(session, other, SoftWebauthnDevice())
    with pytest.raises(NotFound):
        passkeys.remove(session, user=user, passkey_id=theirs.id, password=PASSWORD, code="")
    with pytest.raises(ValidationFailed) as wrong:
        passkeys.remove(session, user=user, passkey_id=mine.id, password="nope", code="")
    assert "passkey_password" in wrong.value.errors
    session.rollback()
    setup = two_factor.start_setup(session, user=user)
    two_factor.confirm_setup(session, user=user, code=pyotp.TOTP(setup.secret).at(
        two_factor.clock() - 30))  # fmt: skip
    session.commit()
    passkeys.remove(
        session, user=user, passkey_id=mine.id, password="", code=pyotp.TOTP(setup.secret).now()
    )
    session.commit()
    assert passkeys.list_passkeys(session, user=user) == []
    assert "security.passkey_removed" in audit_actions(session, org.id)


def test_an_organization_requiring_two_factor_accepts_a_passkey(session):
    owner = make_user(session)
    org = make_org(session, owner)
    session.add(
        Subscription(organization_id=org.id, kind="plan", plan_key="professional",
                     status="active", stripe_subscription_id=f"sub_pk_{org.id}",
                     interval="monthly")
    )  # fmt: skip
    member = add_member(session, org, Role.AGENT)
    register(session, owner, SoftWebauthnDevice())
    org_security.update_settings(
        session, user=owner, organization_id=org.id, require_two_factor=True, ip_allowlist="",
        client_address="203.0.113.7", confirm_own_address=False,
    )  # fmt: skip
    session.commit()
    with pytest.raises(org_security.AccessRefused):
        org_security.check_access(session, user=member, organization_id=org.id, address="")
    passkey = register(session, member, SoftWebauthnDevice())
    org_security.check_access(session, user=member, organization_id=org.id, address="")
    assert two_factor.enabled_user_ids(session, [owner.id, member.id]) == {owner.id, member.id}
    passkeys.remove(session, user=member, passkey_id=passkey.id, password=PASSWORD, code="")
    session.commit()
    with pytest.raises(org_security.AccessRefused):
        org_security.check_access(session, user=member, organization_id=org.id, address="")
