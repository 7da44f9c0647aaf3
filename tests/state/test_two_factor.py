"""After a sign-in with a recovery code the app says how many are left: the second
step reports it; with the authenticator's code it reports nothing."""

from sqlmodel import Session

from orgportal.services import two_factor
from orgportal.state.two_factor import RecoveryCodesNotice
from tests.factories import BROWSER, make_user
from tests.services.test_two_factor import code, enable, fixed_clock_and_key, second_step

__all__ = ["fixed_clock_and_key"]  # the clock and key of the two-factor tests


def test_a_recovery_code_reports_how_many_are_left(session: Session):
    user = make_user(session)
    secret, codes = enable(session, user)
    done = two_factor.finish_sign_in(
        session, challenge=second_step(session, user), code=codes[0], browser=BROWSER
    )
    session.commit()
    assert done.ticket and done.recovery_codes_left == 9
    done = two_factor.finish_sign_in(
        session, challenge=second_step(session, user), code=codes[1], browser=BROWSER
    )
    assert done.recovery_codes_left == 8


def test_the_apps_code_reports_nothing(session: Session):
    user = make_user(session)
    secret, _ = enable(session, user)
    done = two_factor.finish_sign_in(
        session, challenge=second_step(session, user), code=code(secret), browser=BROWSER
    )
    assert done.ticket and done.recovery_codes_left is None


def test_the_notice_in_the_products_words():
    notice = RecoveryCodesNotice(_reflex_internal_init=True)
    assert notice.message == ""
    notice._show(7)
    assert notice.message == "You used a recovery code; 7 are left. Make new ones"
    notice._show(1)
    assert notice.message == "You used a recovery code; 1 is left. Make new ones"
    notice._show(0)
    assert notice.message == "You used your last recovery code. Make new ones now"
    RecoveryCodesNotice.dismiss.fn(notice)
    assert notice.message == ""
