"""Support seats and the member limit (SPEC §5): a seat count below 1 or below Seats
Used is refused with a message and creates nothing, and wherever the member limit shows, it
says what sets it: bought support seats replace the plan's member limit."""

import pytest
from sqlmodel import Session, select

from orgportal.adapters.billing import TestModeBilling
from orgportal.models import Role
from orgportal.models import TestModeCheckout as Checkout  # not a test class
from orgportal.services import billing, invitations, plans, seats
from orgportal.services.errors import NoSeatsAvailable, NotFound, ValidationFailed
from orgportal.state.billing import BillingState
from tests.factories import add_member, make_org, make_user
from tests.services.test_billing import subscribe
from tests.state.test_billing import viewer_of


@pytest.mark.parametrize(
    ("quantity", "used", "problem"),
    [
        (0, 1, "At least 1 seat: the owner's seat counts too."),
        (-3, 1, "At least 1 seat: the owner's seat counts too."),
        (
            2,
            3,
            "Seats cannot go below 3: that many are in use (members and pending invites).",
        ),
        (1001, 1, "At most 1000 seats; contact us for more."),
        (1, 1, ""),
        (3, 3, ""),
        (1000, 1, ""),
    ],
)
def test_the_seat_count_rule(quantity: int, used: int, problem: str):
    assert seats.seat_count_problem(quantity, used) == problem


def test_a_support_checkout_of_0_seats_is_refused_and_creates_nothing(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    for quantity in (0, -1):
        with pytest.raises(ValidationFailed) as refused:
            billing.start_checkout(
                session,
                gateway,
                user=owner,
                organization_id=org.id,
                kind="support",
                quantity=quantity,
            )
        assert refused.value.errors == {"seats": "At least 1 seat: the owner's seat counts too."}
    session.rollback()
    assert session.exec(select(Checkout)).all() == []


def test_seat_changes_to_0_are_refused(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, kind="support")
    with pytest.raises(ValidationFailed) as refused:
        billing.change_seats(
            session, TestModeBilling(session), user=owner, organization_id=org.id, seats_wanted=0
        )
    assert refused.value.errors["seats"].startswith("At least 1 seat")
    session.rollback()
    assert billing.overview(session, user=owner, organization_id=org.id).seats_purchased == 1


def test_the_member_limit_says_where_it_comes_from(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    assert seats.member_limit(session, org).sentence == "The Free plan allows 3 members."

    subscribe(session, owner, org, plan_key="professional")
    assert seats.member_limit(session, org).sentence == "The Professional plan allows 25 members."

    subscribe(session, owner, org, kind="support")  # 1 seat: the owner's
    limit = seats.member_limit(session, org)
    assert (limit.limit, limit.support_seats) == (1, 1)
    assert limit.sentence == (
        "Members are limited by your 1 support seat (the Professional plan alone allows 25)."
    )
    assert plans.seat_limit(session, org) == limit.limit  # one rule, said as it is applied


def test_the_unlimited_plan_has_no_member_limit_until_seats_are_bought(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, plan_key="unlimited")
    assert seats.member_limit(session, org).sentence == "The Unlimited plan has no member limit."
    subscribe(session, owner, org, kind="support")
    assert seats.member_limit(session, org).sentence == (
        "Members are limited by your 1 support seat (the Unlimited plan alone has no member limit)."
    )


def test_the_invite_refusal_names_the_support_seats(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe(session, owner, org, plan_key="starter")
    add_member(session, org, Role.AGENT)
    subscribe(session, owner, org, kind="support")  # 2 seats, both used
    with pytest.raises(NoSeatsAvailable) as refused:
        invitations.create_invite(
            session, user=owner, organization_id=org.id, email="x@example.com", role=Role.AGENT
        )
    assert refused.value.message == (
        "No seats available: members are limited by your 2 support seats (the Starter plan "
        "alone allows 5). Pending invites take a seat too."
    )


def test_any_member_may_read_the_member_limit_and_outsiders_may_not(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    limit = seats.read_member_limit(session, user=viewer, organization_id=org.id)
    assert limit.limit == 3
    with pytest.raises(NotFound):
        seats.read_member_limit(session, user=make_user(session), organization_id=org.id)


@pytest.mark.parametrize(
    ("quantity", "plan_key", "summary"),
    [
        (
            6,
            "professional",
            "Your member limit becomes 6 (today 25): support seats replace the Professional "
            "plan's member limit.",
        ),
        (5, "starter", "Your member limit becomes 5."),
        (
            6,
            "unlimited",
            "Your member limit becomes 6 (today no limit): support seats replace the Unlimited "
            "plan's member limit.",
        ),
    ],
)
def test_the_support_checkout_says_the_member_limit_it_sets(quantity, plan_key, summary):
    assert seats.limit_after_support(quantity, plans.PLANS[plan_key]) == summary


def test_the_support_checkout_stepper_stops_at_the_minimum_and_0_shows_no_price(
    session: Session,
):
    owner = make_user(session)
    org = make_org(session, owner)
    add_member(session, org, Role.AGENT)  # 2 seats used
    state = BillingState()
    state._load(session, viewer_of(session, owner, org.id))
    assert (state.support_seats, state.min_seats) == (2, 2)

    state.step_support_seats(-1)
    assert state.support_seats == 2  # never below Seats Used
    state.step_support_seats(1)
    assert state.support_seats == 3
    assert state.support_limit_summary == "Your member limit becomes 3."  # the Free plan's 3
    assert not state.support_limit_lower

    state.set_support_seats("0")
    assert state.support_seats_problem == "At least 1 seat: the owner's seat counts too."
    assert state.support_cost == "—"  # never £0.00
    assert state.support_limit_summary == ""
    state.set_support_seats("1")
    assert state.support_seats_problem.startswith("Seats cannot go below 2")
