"""POST /api/stripe/webhook over HTTP: signatures, idempotency, ordering, the fallback race."""

import hmac
import json
import threading
import time
from hashlib import sha256

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orgportal import db
from orgportal.adapters.billing import TestModeBilling
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.models import AuditEvent, BillingEvent, Subscription
from orgportal.services import billing, plans
from tests.factories import make_org, make_user

SECRET = "whsec_test_orgportal"


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    """The real API app on the test database, with a webhook secret configured."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "stripe_webhook_secret", SECRET)
    return TestClient(build_api())


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    t = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


def post(client: TestClient, event: dict, secret: str = SECRET):
    body = json.dumps(event).encode()
    return client.post("/api/stripe/webhook", content=body, headers=signed(body, secret))


def paid_checkout(session: Session, plan_key: str = "starter"):
    """An organization whose test checkout is paid in 'Stripe' but not yet known to us."""
    owner = make_user(session)
    org = make_org(session, owner)
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="plan", plan_key=plan_key
    )
    checkout = billing.get_test_checkout(session, user=owner, checkout_id=url.rsplit("/", 1)[1])
    row, completed = gateway.pay(checkout)
    session.commit()
    return owner, org, gateway, row, completed


def count(session: Session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_bad_signature_is_refused_and_changes_nothing(session: Session, client: TestClient):
    _, org, _, _, completed = paid_checkout(session)
    assert post(client, completed, secret="whsec_wrong").status_code == 400
    body = json.dumps(completed).encode()
    unsigned = client.post("/api/stripe/webhook", content=body)
    assert unsigned.status_code == 400
    stale = client.post(
        "/api/stripe/webhook", content=body, headers=signed(body, at=int(time.time()) - 3600)
    )
    assert stale.status_code == 400  # outside stripe-python's replay tolerance
    assert count(session, Subscription) == 0
    assert count(session, BillingEvent) == 0
    assert plans.organization_plan(session, org).key == "free"


def test_signed_checkout_completed_activates_and_a_redelivery_is_applied_once(
    session: Session, client: TestClient
):
    _, org, _, _, completed = paid_checkout(session)
    first = post(client, completed)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    again = post(client, completed)
    assert again.json() == {"received": True, "duplicate": True}
    assert count(session, Subscription, Subscription.organization_id == org.id) == 1
    assert count(session, AuditEvent, AuditEvent.action == "billing.subscribed") == 1
    assert plans.organization_plan(session, org).links == 500


def test_updated_before_completed_ends_in_the_final_state(session: Session, client: TestClient):
    _, org, gateway, row, completed = paid_checkout(session)
    gateway.update_subscription(row.id, price_id=plans.price_id("professional", "monthly"))
    updated = gateway.subscription_event("customer.subscription.updated", row.id)
    session.commit()
    assert post(client, updated).status_code == 200
    assert post(client, completed).status_code == 200
    session.expire_all()
    assert plans.organization_plan(session, org).key == "professional"


def test_localstripe_shaped_payload_without_a_reachable_subscription(
    session: Session, client: TestClient
):
    """2017-shaped objects (plan on the item, period on the subscription) are read too, and
    payloads older than what we hold never win."""
    owner = make_user(session)
    org = make_org(session, owner)
    org.stripe_customer_id = "cus_legacy"
    session.add(org)
    session.commit()

    def event(event_id: str, created: int, status: str, plan: str) -> dict:
        subscription = {
            "id": "sub_legacy",
            "object": "subscription",
            "customer": "cus_legacy",
            "status": status,
            "current_period_end": created + 30 * 86400,
            "metadata": {},
            "items": {"data": [{"id": "si_1", "quantity": 1, "plan": {"id": plan}}]},
        }
        return {
            "id": event_id,
            "type": "customer.subscription.updated",
            "created": created,
            "data": {"object": subscription},
        }

    now = int(time.time())
    assert (
        post(client, event("evt_new", now, "active", plans.price_id("basic", "annual"))).status_code
        == 200
    )
    assert (
        post(
            client, event("evt_old", now - 60, "incomplete", plans.price_id("starter", "monthly"))
        ).status_code
        == 200
    )
    session.expire_all()
    sub = session.exec(select(Subscription)).one()
    assert (sub.plan_key, sub.interval, sub.status) == ("basic", "annual", "active")


def test_payment_failed_shows_past_due(session: Session, client: TestClient):
    owner, org, gateway, row, completed = paid_checkout(session)
    post(client, completed)
    assert post(client, gateway.fail_renewal(row.id)).status_code == 200
    session.commit()
    session.expire_all()
    assert billing.overview(session, user=owner, organization_id=org.id).plan_status == "past_due"


def test_webhook_and_return_url_fallback_racing_activate_once(
    session: Session, client: TestClient, engine
):
    owner, org, _, _, completed = paid_checkout(session)
    checkout_id = completed["data"]["object"]["id"]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def webhook():
        barrier.wait()
        assert post(client, completed).status_code == 200

    def fallback():
        barrier.wait()
        with db.unit_of_work(engine) as s:
            billing.complete_checkout(s, TestModeBilling(s), user=owner, checkout_id=checkout_id)

    def run(fn):
        try:
            fn()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in (webhook, fallback)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(session, Subscription, Subscription.organization_id == org.id) == 1
    assert count(session, AuditEvent, AuditEvent.action == "billing.subscribed") == 1


def test_webhook_without_a_configured_secret_is_refused(session: Session, client, monkeypatch):
    monkeypatch.setattr(settings, "stripe_webhook_secret", None)
    _, _, _, _, completed = paid_checkout(session)
    assert post(client, completed).status_code == 400
    assert count(session, Subscription) == 0
