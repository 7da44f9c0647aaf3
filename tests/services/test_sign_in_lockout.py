"""The per-email lockout (SPEC §1 "Brute force"): one entry records a failed proof, commits it
and refuses; one records a success, which ends the count."""

import pytest
from sqlmodel import select

from orgportal.config import settings
from orgportal.models import LoginAttempt
from orgportal.services import sign_in_lockout
from orgportal.services.errors import AccountLocked, InvalidCredentials, ValidationFailed

EMAIL = "ada@example.com"


def _fail(session, email: str = EMAIL) -> None:
    with pytest.raises(InvalidCredentials):
        sign_in_lockout.refuse_attempt(session, email, InvalidCredentials())
    session.rollback()  # as the caller's unit of work does on the refusal


def test_a_refused_attempt_raises_the_refusal_given_and_outlives_the_rollback(session):
    refusal = ValidationFailed({"password": "That password is not right."})
    with pytest.raises(ValidationFailed) as raised:
        sign_in_lockout.refuse_attempt(session, EMAIL, refusal)
    assert raised.value is refusal
    session.rollback()
    rows = session.exec(select(LoginAttempt)).all()
    assert [(r.email, r.succeeded) for r in rows] == [(EMAIL, False)]


def test_enough_failures_lock_the_email_and_no_other(session):
    for _ in range(settings.login_max_failures - 1):
        _fail(session)
    sign_in_lockout.refuse_if_locked(session, EMAIL)  # one short: still open
    _fail(session)
    with pytest.raises(AccountLocked) as locked:
        sign_in_lockout.refuse_if_locked(session, EMAIL)
    assert "Try again in" in locked.value.message
    sign_in_lockout.refuse_if_locked(session, "grace@example.com")


def test_a_success_ends_the_count(session):
    for _ in range(settings.login_max_failures):
        _fail(session)
    sign_in_lockout.record_success(session, EMAIL)
    session.commit()
    sign_in_lockout.refuse_if_locked(session, EMAIL)
