"""SPEC §18: the Stripe API (localstripe, extended in tests/fake_stripe.py, as a process of
the test's own on a free port) is unreachable while an Owner presses Subscribe or Update on
the Billing page (the page's own handlers, as the websocket calls them). The Owner reads that
the payment provider could not be reached and that nothing changed; nothing is half-applied
(no subscription, no customer id, no seat change, no audit entry, nothing at Stripe); the
page never hangs on a Stripe that does not answer; the next try works once it is back.
"""

import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from reflex import constants
from reflex.state import State
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from orgportal import db, routes
from orgportal.adapters import billing as billing_adapter
from orgportal.adapters.billing import StripeBilling
from orgportal.config import settings
from orgportal.db import make_engine
from orgportal.models import AuditEvent, Organization, Subscription
from orgportal.services import billing
from orgportal.state.billing import BillingState
from tests.factories import make_org, make_user, open_session
from tests.faults.services import StripeServer, free_port
from tests.stripe_server import FakeStripe, stripe_client

KEY = "sk_test_faults"


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The test's own SQLite database (the service broken here is Stripe)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stripe(tmp_path, engine, monkeypatch) -> Iterator[StripeServer]:
    """Our own fake Stripe, configured as in production (a secret key and the API base)."""
    server = StripeServer(tmp_path).start()
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "stripe_secret_key", KEY)
    monkeypatch.setattr(settings, "stripe_api_base", server.url)
    yield server
    server.stop()


def billing_page(session: Session, user, org) -> BillingState:
    """The Billing page's state as the websocket of `user`'s signed-in browser sees it."""
    raw, _ = open_session(session, user, org.id)
    session.commit()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"{routes.SESSION_COOKIE}={raw}", "asgi-scope-client": "127.0.0.1"}
    root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: routes.ORG_BILLING}, {}
    )
    return root.get_substate(BillingState.get_full_name().split(".")[1:])


def assert_plainly_unreachable(message: str) -> None:
    """What the Owner reads: who could not be reached, that nothing changed, to try again;
    none of stripe-python's internals (addresses, exception names, Stripe's support line)."""
    lowered = message.lower()
    assert "could not reach stripe" in lowered, message
    assert "nothing was changed" in lowered and "try again" in lowered, message
    for internal in ("127.0.0.1", "http", "Error", "support@stripe.com", "Traceback"):
        assert internal not in message, message


TOAST = re.compile(r"""refs\['__toast'\]\?\.\["(\w+)"\]\(("(?:[^"\\]|\\.)*")\)""")


def toast(events) -> tuple[str, str]:
    """(kind, text) of the toast a handler returned, read from the script Reflex sends."""
    script = str(events.args[0][1]) if hasattr(events, "args") else ""
    found = TOAST.search(script)
    assert found, f"no toast in {events}"
    return found.group(1), json.loads(found.group(2))


def billing_audit(session: Session, org_id: int) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.action).where(
                AuditEvent.organization_id == org_id, col(AuditEvent.action).startswith("billing")
            )
        )
    )


def test_subscribe_while_stripe_is_down_changes_nothing_and_works_once_it_is_back(
    session, stripe
):
    owner = make_user(session)
    org = make_org(session, owner, "Subscribe Co")
    page = billing_page(session, owner, org)
    page.choose_plan("Basic")

    stripe.stop()  # the Stripe API is down: connection refused
    events = page.subscribe_plan()
    assert "window.location.assign" not in str(events)  # no Checkout opened
    kind, text = toast(events)
    assert kind == "error"
    assert_plainly_unreachable(text)
    session.expire_all()
    assert session.exec(select(Subscription)).all() == []
    assert not session.get(Organization, org.id).stripe_customer_id
    assert billing_audit(session, org.id) == []

    stripe.start()  # back on the same port
    events = page.subscribe_plan()
    opened = str(events)
    assert "window.location.assign" in opened and stripe.url in opened, opened
    checkout_id = opened.split(f"{stripe.url}/")[1].split("/")[-1].split("\\")[0].split('"')[0]
    session.expire_all()
    customer = session.get(Organization, org.id).stripe_customer_id
    assert customer.startswith("cus_")
    checkout = stripe_client(stripe.url).v1.checkout.sessions.retrieve(checkout_id)
    assert checkout["customer"] == customer and checkout["status"] == "open"


def support_with_seats(session: Session, stripe: StripeServer, owner, org, seats: int) -> str:
    """An active support subscription of `seats` seats, bought through Checkout; its id."""
    gateway = StripeBilling(KEY, stripe.url)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="support", quantity=seats
    )
    session.commit()
    assert FakeStripe(stripe.url).pay(url.rsplit("/", 1)[1]).status_code in (200, 303)
    row = billing.complete_checkout(session, gateway, user=owner, checkout_id=url.rsplit("/", 1)[1])
    session.commit()
    assert row is not None and row.quantity == seats
    return row.stripe_subscription_id


def seats_at_stripe(stripe: StripeServer, subscription_id: str) -> int:
    found = stripe_client(stripe.url).v1.subscriptions.retrieve(subscription_id)
    return int(found["items"]["data"][0]["quantity"])


def seats_here(session: Session) -> int:
    session.expire_all()
    return session.exec(select(Subscription)).one().quantity


def test_a_seat_update_while_stripe_is_unreachable_changes_no_seat_and_works_once_it_is_back(
    session, stripe, monkeypatch
):
    owner = make_user(session)
    org = make_org(session, owner, "Seats Co")
    subscription_id = support_with_seats(session, stripe, owner, org, seats=2)
    page = billing_page(session, owner, org)
    page.seats_pending = 4
    audit_before = billing_audit(session, org.id)

    # 1. Stripe's address refuses connections (a closed port)
    monkeypatch.setattr(settings, "stripe_api_base", f"http://127.0.0.1:{free_port()}")
    page.update_seats()
    assert_plainly_unreachable(page.seats_errors.get("seats", ""))
    assert seats_here(session) == 2

    # 2. Stripe hangs (the process frozen: connections open, no answer). The page answers
    # within the adapter's timeouts (made short here), not stripe-python's 80 s per try.
    monkeypatch.setattr(settings, "stripe_api_base", stripe.url)
    monkeypatch.setattr(billing_adapter, "STRIPE_TIMEOUT_SECONDS", (1, 2), raising=False)
    page.seats_pending = 4
    stripe.freeze()
    try:
        started = time.monotonic()
        worker = threading.Thread(target=page.update_seats, daemon=True)
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "Update hung on a Stripe that does not answer"
        took = time.monotonic() - started
    finally:
        stripe.thaw()
    assert_plainly_unreachable(page.seats_errors.get("seats", ""))
    assert took < 20
    assert seats_here(session) == 2
    assert billing_audit(session, org.id) == audit_before
    assert seats_at_stripe(stripe, subscription_id) == 2  # nothing applied there either

    # 3. Stripe is back: the same Update goes through, once
    page.seats_pending = 4
    events = page.update_seats()
    assert page.seats_errors == {}, page.seats_errors
    assert toast(events) == ("success", "Seats updated to 4.")
    assert seats_here(session) == 4
    assert seats_at_stripe(stripe, subscription_id) == 4
    assert billing_audit(session, org.id) == [*audit_before, "billing.seats_changed"]
