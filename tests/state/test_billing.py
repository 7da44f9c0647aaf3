"""What the billing pages show (SPEC §6): the seat price comes from SEAT_PRICE_PENCE, never a
literal, and counts of seats read as English."""

import pytest
from sqlmodel import Session

from orgportal.adapters.billing import TestModeBilling
from orgportal.config import settings
from orgportal.services import accounts, billing
from orgportal.state.billing import BillingState, TestCheckoutState, seats_label
from orgportal.views.billing import support_card
from tests.factories import make_org, make_user, open_session


def viewer_of(session: Session, user, organization_id: int):
    token, _ = open_session(session, user, organization_id)
    session.commit()
    return accounts.authenticate(session, token)


def test_the_seat_price_shown_follows_seat_price_pence(session: Session, monkeypatch):
    monkeypatch.setattr(settings, "seat_price_pence", 799)
    owner = make_user(session)
    org = make_org(session, owner)
    state = BillingState()

    state._load(session, viewer_of(session, owner, org.id))

    assert state.seat_price == "£7.99"
    assert state.pending_cost == "£7.99"  # one seat: the owner's
    state.seats_pending = 3
    assert state.pending_cost == "£23.97"


def test_the_support_card_has_no_price_written_into_it():
    rendered = str(support_card().render())
    assert "£" not in rendered and "5.99" not in rendered
    assert BillingState.seat_price._js_expr in rendered


@pytest.mark.parametrize(
    ("count", "label"), [(1, "1 seat"), (2, "2 seats"), (0, "0 seats"), (12, "12 seats")]
)
def test_seat_counts_read_as_english(count: int, label: str):
    assert seats_label(count) == label


def test_the_test_checkout_of_one_support_seat_says_1_seat(session: Session, monkeypatch):
    owner = make_user(session)
    org = make_org(session, owner)
    url = billing.start_checkout(
        session, TestModeBilling(session), user=owner, organization_id=org.id, kind="support"
    )
    session.commit()
    state = TestCheckoutState()
    monkeypatch.setattr(TestCheckoutState, "checkout_id", url.rsplit("/", 1)[1], raising=False)

    state._load(session, viewer_of(session, owner, org.id))

    assert state.description == "Support Subscription: 1 seat"
    assert state.price == f"£{settings.seat_price_pence / 100:.2f} / month"
