"""Outgoing webhooks (SPEC §17): endpoints, events queued in the action's transaction,
delivery to a real local receiver that verifies each signature with the `standardwebhooks`
library, retries across a receiver outage and a worker stop, the endpoint disabled after a
day of failures, the delivery log, Resend, test events and SSRF refusals."""

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from standardwebhooks import Webhook

from orgportal.adapters import webhook_http
from orgportal.adapters.billing import SubscriptionInfo, TestModeBilling
from orgportal.config import settings
from orgportal.models import (
    Invite,
    Organization,
    OutboxMessage,
    Role,
    Subscription,
    WebhookEndpoint,
    WebhookMessage,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    account_settings,
    accounts,
    custom_domains,
    invitations,
    link_approval,
    links,
    members,
    plans,
    tickets,
    webhooks,
)
from orgportal.services.billing import subscriptions
from orgportal.services.billing.payer import Payer
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import (
    PASSWORD,
    add_member,
    audit_actions,
    bulk_links,
    make_org,
    make_user,
    open_session,
)
from tests.webhook_receiver import Receiver


@pytest.fixture
def team(session):
    owner = make_user(session, "owner@acme.example.com")
    org = make_org(session, owner)
    return owner, org


@pytest.fixture
def private_ok(monkeypatch):
    """The test receiver listens on 127.0.0.1: the operator setting lets it through."""
    monkeypatch.setattr(settings, "webhooks_allow_private_targets", True)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def add(session: Session, owner, org, url: str, events=("member.joined",)):
    new = webhooks.create_endpoint(
        session, user=owner, organization_id=org.id, url=url, event_types=list(events)
    )
    session.commit()
    return new


def deliver(engine, **kwargs) -> int:
    return webhooks.deliver_pending(engine, **kwargs)


# --- endpoints --------------------------------------------------------------------------------


def test_secret_is_standard_webhooks_format_and_stored_sealed(session, team, private_ok, receiver):
    owner, org = team
    new = add(session, owner, org, receiver.url)
    assert new.secret.startswith("whsec_")
    Webhook(new.secret)  # the library accepts it
    row = session.get(WebhookEndpoint, new.endpoint.id)
    assert new.secret not in row.secret_sealed
    assert row.event_types == "member.joined"
    assert "webhook.endpoint_added" in audit_actions(session, org.id)


def test_only_owner_and_admin_manage_endpoints(session, team, private_ok, receiver):
    owner, org = team
    admin = add_member(session, org, Role.ADMIN)
    add(session, admin, org, receiver.url)
    for role in (Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER):
        member = add_member(session, org, role)
        with pytest.raises(PermissionDenied):
            add(session, member, org, receiver.url)
        with pytest.raises(PermissionDenied):
            webhooks.list_endpoints(session, user=member, organization_id=org.id)


def test_another_organizations_endpoint_reads_as_missing(session, team, private_ok, receiver):
    owner, org = team
    new = add(session, owner, org, receiver.url)
    other = make_user(session, "other@example.com")
    other_org = make_org(session, other, "Other")
    with pytest.raises(NotFound):
        webhooks.delete_endpoint(
            session, user=other, organization_id=other_org.id, endpoint_id=new.endpoint.id
        )
    with pytest.raises(NotFound):
        webhooks.deliveries(
            session, user=other, organization_id=other_org.id, endpoint_id=new.endpoint.id
        )


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "Choose at least one event."), (["nope.happened"], "Unknown event type: nope.happened.")],
)
def test_events_must_be_known_and_chosen(session, team, private_ok, receiver, events, message):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        add(session, owner, org, receiver.url, events)
    assert refused.value.errors["events"] == message
    assert session.exec(select(WebhookEndpoint)).all() == []


@pytest.mark.parametrize(
    "url",
    ["", "ftp://hooks.example.com/x", "not a url", "https://user:pw@hooks.example.com/"],
)
def test_bad_urls_are_refused(session, team, url):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        add(session, owner, org, url)
    assert "url" in refused.value.errors


def test_plain_http_is_refused_without_the_operator_setting(session, team):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        add(session, owner, org, "http://93.184.215.14/hooks")
    assert refused.value.errors["url"] == "The URL must start with https://."


# --- SSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://127.1.2.3:8443/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.9/hooks",
        "https://192.168.1.10/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[fd00:ec2::254]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://100.64.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://localhost/hooks",  # a name resolving to loopback
    ],
)
def test_private_loopback_link_local_and_metadata_targets_are_refused(session, team, url):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        add(session, owner, org, url)
    assert "only sent to public addresses" in refused.value.errors["url"]
    assert session.exec(select(WebhookEndpoint)).all() == []


def test_a_name_that_does_not_resolve_is_refused(session, team):
    owner, org = team
    with pytest.raises(ValidationFailed) as refused:
        add(session, owner, org, "https://no-such-host.invalid/hooks")
    assert "could not be found" in refused.value.errors["url"]


def test_a_public_address_is_accepted(session, team):
    owner, org = team
    assert add(session, owner, org, "https://93.184.215.14/hooks").endpoint.id


def test_delivery_resolves_again_and_refuses_a_target_turned_private(
    session, engine, team, private_ok, receiver, monkeypatch
):
    """Saved while allowed, then the setting is off (as a DNS answer changing to a private
    address would be): the delivery resolves `localhost` again and is refused before any
    connection, and retried later."""
    owner, org = team
    add(session, owner, org, f"https://localhost:{receiver.port}/hooks")
    webhooks.emit(session, org.id, "member.joined", {"email": "a@example.com"})
    session.commit()
    monkeypatch.setattr(settings, "webhooks_allow_private_targets", False)
    assert deliver(engine) == 0
    assert receiver.hits == 0
    message = session.exec(select(WebhookMessage)).one()
    session.refresh(message)
    assert "only sent to public addresses" in message.last_error
    assert message.attempts == 1 and message.delivered_at is None


def test_transport_refuses_loopback_after_dns_without_connecting(receiver):
    """The adapter itself: `localhost` resolves to loopback; nothing reaches the receiver."""
    url = f"http://localhost:{receiver.port}/hooks"
    with pytest.raises(webhook_http.TargetRefused):
        webhook_http.post(url, b"{}", {}, allow_private=False)
    assert receiver.hits == 0


def test_a_redirect_is_not_followed_and_is_recorded(session, engine, team, private_ok, receiver):
    owner, org = team
    inner = Receiver().start()  # where the redirect points: must never be reached
    try:
        receiver.status, receiver.location = 302, f"http://169.254.169.254:{inner.port}/x"
        add(session, owner, org, receiver.url)
        webhooks.emit(session, org.id, "member.joined", {})
        session.commit()
        assert deliver(engine) == 0
        message = session.exec(select(WebhookMessage)).one()
        session.refresh(message)
        assert message.response_code == 302
        assert message.last_error.startswith("Redirect to http://169.254.169.254")
        assert message.last_error.endswith("not followed")
        assert webhooks.status_of(message) == "retrying"
        assert inner.hits == 0
    finally:
        inner.stop()


# --- emitting and delivering ------------------------------------------------------------------


def test_emit_queues_for_subscribed_enabled_endpoints_only(session, engine, team, private_ok):
    owner, org = team
    joined = add(session, owner, org, "http://127.0.0.1:9/a", ["member.joined"]).endpoint
    tickets = add(session, owner, org, "http://127.0.0.1:9/b", ["ticket.created"]).endpoint
    off = add(session, owner, org, "http://127.0.0.1:9/c", ["member.joined"]).endpoint
    webhooks.set_enabled(
        session, user=owner, organization_id=org.id, endpoint_id=off.id, enabled=False
    )
    assert webhooks.emit(session, org.id, "member.joined", {"email": "x@example.com"}) == 1
    assert webhooks.emit(session, None, "member.joined", {}) == 0  # Personal Workspace
    session.commit()
    rows = session.exec(select(WebhookMessage)).all()
    assert [r.endpoint_id for r in rows] == [joined.id]
    assert tickets.id not in {r.endpoint_id for r in rows}
    with pytest.raises(ValueError):
        webhooks.emit(session, org.id, "not.an.event", {})


def test_emit_is_part_of_the_actions_transaction(session, team, private_ok):
    owner, org = team
    add(session, owner, org, "http://127.0.0.1:9/a")
    webhooks.emit(session, org.id, "member.joined", {})
    session.rollback()  # the action failed: no message either
    assert session.exec(select(WebhookMessage)).all() == []


def test_delivery_is_signed_and_verified_by_the_receiver(
    session, engine, team, private_ok, receiver
):
    owner, org = team
    receiver.secret = add(session, owner, org, receiver.url).secret
    webhooks.emit(session, org.id, "member.joined", {"email": "new@example.com"})
    session.commit()
    assert deliver(engine) == 1
    [got] = receiver.wait_for(1)
    assert got.verified
    assert got.body["type"] == "member.joined"
    assert got.body["data"] == {"organization_id": org.public_id, "email": "new@example.com"}
    assert got.message_id.startswith("msg_")
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(got.headers)
    message = session.exec(select(WebhookMessage)).one()
    session.refresh(message)
    assert webhooks.status_of(message) == "delivered"
    assert message.response_code == 200 and message.response_body == "ok"
    assert deliver(engine) == 0  # delivered once, not again


def test_response_body_is_cut_to_a_few_kb(session, engine, team, private_ok, receiver):
    owner, org = team
    receiver.reply = b"x" * 100_000
    add(session, owner, org, receiver.url)
    webhooks.emit(session, org.id, "member.joined", {})
    session.commit()
    deliver(engine)
    message = session.exec(select(WebhookMessage)).one()
    session.refresh(message)
    assert len(message.response_body) == webhook_http.RESPONSE_LIMIT


def test_retries_across_a_receiver_outage_deliver_every_event(
    session, engine, team, private_ok, receiver
):
    owner, org = team
    receiver.secret = add(session, owner, org, receiver.url).secret
    receiver.stop()  # down: connection refused
    for n in range(3):
        webhooks.emit(session, org.id, "member.joined", {"n": n})
    session.commit()
    assert deliver(engine) == 0
    rows = session.exec(select(WebhookMessage)).all()
    for row in rows:
        session.refresh(row)
        assert row.attempts == 1 and webhooks.status_of(row) == "retrying"
        assert row.last_error  # ConnectionRefusedError…
    assert deliver(engine) == 0  # not due yet: backing off (5 s)
    receiver.start()  # back up on the same port
    later = utcnow() + timedelta(seconds=6)
    assert deliver(engine, now=later) == 3
    got = receiver.wait_for(3)
    assert sorted(r.body["data"]["n"] for r in got) == [0, 1, 2]
    assert all(r.verified for r in got)


def test_backoff_grows_and_gives_up_after_about_a_day(session, engine, team, private_ok):
    owner, org = team
    add(session, owner, org, f"http://127.0.0.1:{free_port()}/down")
    webhooks.emit(session, org.id, "member.joined", {})
    session.commit()
    now = utcnow()
    waits = []
    for _ in range(webhooks.MAX_ATTEMPTS):
        deliver(engine, now=now)
        message = session.exec(select(WebhookMessage)).one()
        session.refresh(message)
        if message.failed_at is None:
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert waits == list(webhooks.RETRY_SCHEDULE)
    assert sum(waits, timedelta()) > timedelta(hours=24)
    assert webhooks.status_of(message) == "failed"
    assert message.attempts == webhooks.MAX_ATTEMPTS


def test_a_day_of_failures_disables_the_endpoint_and_mails_the_owner(
    session, engine, team, private_ok, receiver
):
    owner, org = team
    receiver.status = 500
    endpoint = add(session, owner, org, receiver.url).endpoint
    webhooks.emit(session, org.id, "member.joined", {})
    session.commit()
    now = utcnow()
    deliver(engine, now=now)
    session.refresh(endpoint)
    assert endpoint.enabled and endpoint.failing_since is not None
    webhooks.emit(session, org.id, "member.joined", {})  # a later event, failing too
    session.commit()
    deliver(engine, now=now + timedelta(hours=25))
    session.refresh(endpoint)
    assert not endpoint.enabled
    assert "every delivery failed for a day" in endpoint.disabled_reason
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.to_address == owner.email))
    assert [m.subject for m in mails] == ["A webhook endpoint was disabled"]
    assert "webhook.endpoint_disabled" in audit_actions(session, org.id)
    # nothing is queued for it while disabled; its waiting messages are kept, not sent
    assert webhooks.emit(session, org.id, "member.joined", {}) == 0
    hits = receiver.hits
    assert deliver(engine, now=now + timedelta(days=3)) == 0
    assert receiver.hits == hits
    # enabled again (fixed): the waiting ones go out
    receiver.status = 200
    webhooks.set_enabled(
        session, user=owner, organization_id=org.id, endpoint_id=endpoint.id, enabled=True
    )
    session.commit()
    assert deliver(engine) >= 1


def test_a_success_resets_the_failing_clock(session, engine, team, private_ok, receiver):
    owner, org = team
    receiver.status = 500
    endpoint = add(session, owner, org, receiver.url).endpoint
    webhooks.emit(session, org.id, "member.joined", {})
    session.commit()
    deliver(engine)
    receiver.status = 200
    deliver(engine, now=utcnow() + timedelta(seconds=6))
    session.refresh(endpoint)
    assert endpoint.failing_since is None and endpoint.enabled


def test_a_worker_stopped_mid_send_leaves_it_to_be_sent_again(
    session, engine, team, private_ok, receiver
):
    """The worker claimed the message and died before recording the answer (its claim holds
    the message for CLAIM_LEASE): after the lease, a restarted worker sends it."""
    owner, org = team
    receiver.secret = add(session, owner, org, receiver.url).secret
    webhooks.emit(session, org.id, "member.joined", {"who": "kill"})
    session.commit()
    stop = threading.Event()

    def dying_send(*args, **kwargs):
        raise SystemExit  # the process going away mid-request: nothing is recorded

    with pytest.raises(SystemExit):
        webhooks._deliver_one(
            engine,
            *session.exec(select(WebhookMessage.id, WebhookMessage.next_attempt_at)).one(),
            dying_send,
            utcnow(),
        )
    assert deliver(engine, stop=stop) == 0  # still claimed by the dead worker
    stop.set()
    later = utcnow() + webhooks.CLAIM_LEASE + timedelta(seconds=1)
    assert deliver(engine, now=later, stop=stop) == 0  # a stopping worker claims nothing
    assert deliver(engine, now=later) == 1  # the restarted worker
    [got] = receiver.wait_for(1)
    assert got.verified and got.body["data"]["who"] == "kill"


def test_two_workers_deliver_each_message_once(session, engine, team, private_ok, receiver):
    owner, org = team
    receiver.secret = add(session, owner, org, receiver.url).secret
    for n in range(10):
        webhooks.emit(session, org.id, "member.joined", {"n": n})
    session.commit()
    results = []
    workers = [threading.Thread(target=lambda: results.append(deliver(engine))) for _ in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(results) == 10
    got = receiver.wait_for(10)
    assert sorted(r.body["data"]["n"] for r in got) == list(range(10))


# --- delivery log, resend, test event ---------------------------------------------------------


def test_delivery_log_is_paginated_newest_first(session, engine, team, private_ok, receiver):
    owner, org = team
    endpoint = add(session, owner, org, receiver.url).endpoint
    for n in range(5):
        webhooks.emit(session, org.id, "member.joined", {"n": n})
    session.commit()
    deliver(engine)
    page, total = webhooks.deliveries(
        session, user=owner, organization_id=org.id, endpoint_id=endpoint.id, limit=2, offset=0
    )
    assert total == 5 and len(page) == 2
    assert page[0].id > page[1].id
    last, _ = webhooks.deliveries(
        session, user=owner, organization_id=org.id, endpoint_id=endpoint.id, limit=2, offset=4
    )
    assert len(last) == 1


def test_send_test_event_and_resend_reach_the_receiver(session, engine, team, private_ok, receiver):
    owner, org = team
    new = add(session, owner, org, receiver.url, ["ticket.created"])
    receiver.secret = new.secret
    test = webhooks.send_test(
        session, user=owner, organization_id=org.id, endpoint_id=new.endpoint.id
    )
    session.commit()
    assert deliver(engine) == 1
    again = webhooks.resend(session, user=owner, organization_id=org.id, delivery_id=test.id)
    session.commit()
    assert again.id != test.id and again.message_id == test.message_id
    assert deliver(engine) == 1
    first, second = receiver.wait_for(2)
    assert first.body["type"] == second.body["type"] == webhooks.TEST_EVENT
    assert first.message_id == second.message_id  # the same webhook-id: receivers dedupe
    assert first.verified and second.verified


def test_resend_and_test_refused_on_a_disabled_endpoint(session, team, private_ok, receiver):
    owner, org = team
    endpoint = add(session, owner, org, receiver.url).endpoint
    test = webhooks.send_test(session, user=owner, organization_id=org.id, endpoint_id=endpoint.id)
    webhooks.set_enabled(
        session, user=owner, organization_id=org.id, endpoint_id=endpoint.id, enabled=False
    )
    with pytest.raises(Conflict):
        webhooks.send_test(session, user=owner, organization_id=org.id, endpoint_id=endpoint.id)
    with pytest.raises(Conflict):
        webhooks.resend(session, user=owner, organization_id=org.id, delivery_id=test.id)


def test_delete_removes_the_endpoint_and_its_log(session, engine, team, private_ok, receiver):
    owner, org = team
    endpoint = add(session, owner, org, receiver.url).endpoint
    webhooks.emit(session, org.id, "member.joined", {})
    webhooks.delete_endpoint(session, user=owner, organization_id=org.id, endpoint_id=endpoint.id)
    session.commit()
    assert session.exec(select(WebhookEndpoint)).all() == []
    assert session.exec(select(WebhookMessage)).all() == []
    assert "webhook.endpoint_deleted" in audit_actions(session, org.id)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the events, from the services where they happen ------------------------------------------


def queued(session: Session) -> list[tuple[str, dict]]:
    rows = session.exec(select(WebhookMessage).order_by(WebhookMessage.id)).all()
    return [(row.event_type, json.loads(row.payload)["data"]) for row in rows]


@pytest.fixture
def subscribed(session, team, private_ok):
    """An endpoint of the team's organization subscribed to every event type."""
    owner, org = team
    add(session, owner, org, "http://127.0.0.1:9/all", list(webhooks.EVENT_TYPES))
    return owner, org


def test_member_and_invite_events(session, subscribed):
    owner, org = subscribed
    invitations.create_invite(
        session, user=owner, organization_id=org.id, email="new@example.com", role=Role.AGENT
    )
    session.commit()
    token = (
        session.exec(select(OutboxMessage).where(OutboxMessage.to_address == "new@example.com"))
        .one()
        .link.rsplit("/", 1)[-1]
    )
    newcomer = make_user(session, "new@example.com")
    raw, _ = open_session(session, newcomer)
    session.commit()
    viewer = accounts.authenticate(session, raw)
    invitations.accept_invite(session, viewer=viewer, token=token)
    members.change_role(
        session, user=owner, organization_id=org.id, member_id=newcomer.id, role=Role.VIEWER
    )
    members.remove_member(session, user=owner, organization_id=org.id, member_id=newcomer.id)
    invitations.create_invite(
        session, user=owner, organization_id=org.id, email="later@example.com", role=Role.AGENT
    )
    session.commit()
    pending = session.exec(select(Invite).where(Invite.email == "later@example.com")).one()
    invitations.revoke_invite(session, user=owner, organization_id=org.id, invite_id=pending.id)
    session.commit()
    events = queued(session)
    assert [t for t, _ in events] == [
        "invite.created",
        "member.joined",
        "invite.accepted",
        "member.role_changed",
        "member.left",
        "invite.created",
        "invite.revoked",
    ]
    assert events[1][1] == {
        "organization_id": org.public_id,
        "user_id": newcomer.public_id,
        "email": "new@example.com",
        "role": "agent",
    }
    assert events[3][1]["old_role"] == "agent" and events[3][1]["role"] == "viewer"


def test_leaving_is_member_left(session, subscribed):
    owner, org = subscribed
    agent = add_member(session, org, Role.AGENT)
    members.leave(session, user=agent, organization_id=org.id)
    session.commit()
    assert queued(session) == [
        (
            "member.left",
            {
                "organization_id": org.public_id,
                "user_id": agent.public_id,
                "email": agent.email,
                "removed_by": None,
            },
        )
    ]


def test_link_events_and_usage_thresholds(session, subscribed):
    owner, org = subscribed
    org_row = session.get(Organization, org.id)
    org_row.require_approval_for_links = True
    session.add(org_row)
    agent = add_member(session, org, Role.AGENT)
    bulk_links(session, owner=owner, organization_id=org.id, count=38, prefix="bulk")
    link = links.create_link(
        session, user=agent, organization_id=org.id, target_url="https://example.com/a"
    )
    session.commit()
    assert [t for t, _ in queued(session)] == ["link.created"]  # 39 of 50: below 80 %
    link_approval.approve_link(session, user=owner, organization_id=org.id, link_id=link.id)
    links.create_link(session, user=owner, organization_id=org.id, target_url="https://x.io/b")
    links.delete_link(session, user=owner, organization_id=org.id, link_id=link.id)
    bulk_links(session, owner=owner, organization_id=org.id, count=10, prefix="more")
    links.create_link(session, user=owner, organization_id=org.id, target_url="https://x.io/c")
    session.commit()
    events = queued(session)
    assert [t for t, _ in events] == [
        "link.created",
        "link.approved",
        "usage.threshold",
        "link.created",
        "link.deleted",
        "usage.threshold",
        "link.created",
    ]
    assert events[0][1]["pending_approval"] is True
    assert events[2][1] == {
        "organization_id": org.public_id,
        "metric": "links",
        "threshold": 80,
        "used": 40,
        "limit": 50,
    }
    assert events[5][1]["threshold"] == 100 and events[5][1]["used"] == 50


def test_personal_workspace_items_emit_nothing(session, subscribed):
    owner, _ = subscribed
    links.create_link(session, user=owner, organization_id=None, target_url="https://x.io/p")
    session.commit()
    assert queued(session) == []


def test_ticket_events(session, subscribed):
    owner, org = subscribed
    ticket = tickets.create_ticket(
        session,
        user=owner,
        organization_id=org.id,
        data={
            "name": "Cy",
            "email": "cy@example.com",
            "subject": "Help",
            "message": "It broke.",
        },
    )
    tickets.reply(session, user=owner, organization_id=org.id, ticket_id=ticket.id, body="On it")
    tickets.close_ticket(session, user=owner, organization_id=org.id, ticket_id=ticket.id)
    tickets.close_ticket(session, user=owner, organization_id=org.id, ticket_id=ticket.id)
    session.commit()
    events = queued(session)
    assert [t for t, _ in events] == ["ticket.created", "ticket.replied", "ticket.closed"]
    assert events[0][1]["number"] == ticket.number and events[0][1]["source"] == "app"


def test_subscription_changed(session, subscribed):
    owner, org = subscribed
    info = SubscriptionInfo(
        id="sub_1",
        customer_id="cus_1",
        status="active",
        price_id=plans.price_id("basic", "monthly"),
        quantity=1,
        item_id="si_1",
        current_period_end=None,
        metadata={},
    )
    subscriptions.apply(session, Payer.organization(org.id), info, 1, authoritative=True)
    session.commit()
    [(kind, data)] = queued(session)
    assert kind == "subscription.changed"
    assert data["plan"] == "basic" and data["status"] == "active"


def test_domain_verified_and_failed(session, subscribed, dns):
    owner, org = subscribed
    session.add(
        Subscription(
            organization_id=org.id,
            kind="plan",
            plan_key="professional",
            status="active",
            stripe_subscription_id="sub_pro",
        )
    )
    session.commit()
    row = custom_domains.add_domain(
        session, user=owner, organization_id=org.id, domain="go.acme.example"
    )
    session.commit()
    dns.set_txt(custom_domains.record_name(row.domain), custom_domains.record_value(row.token))
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    dns.set_txt(custom_domains.record_name(row.domain), "orgportal-verify=wrong")
    custom_domains.verify_domain(session, user=owner, organization_id=org.id, domain_id=row.id)
    session.commit()
    events = queued(session)
    assert [t for t, _ in events] == ["domain.verified", "domain.failed"]
    assert events[1][1]["domain"] == "go.acme.example"


WORKER = """
import sys
from orgportal.db import make_engine
from orgportal.services import webhooks
print(webhooks.deliver_pending(make_engine(sys.argv[1])), flush=True)
"""


def test_a_worker_process_killed_mid_send_is_replaced_and_the_event_delivered(
    session, engine, team, private_ok, receiver, secret_key, tmp_path
):
    """A real worker process is killed (SIGKILL) while its request waits for the answer:
    the receiver got the message but the worker never recorded it. A new worker sends it
    again once the dead one's claim expires: delivered at least once, the same webhook-id."""
    owner, org = team
    receiver.secret = add(session, owner, org, receiver.url).secret
    webhooks.emit(session, org.id, "member.joined", {"who": "killed"})
    session.commit()
    receiver.hold = threading.Event()
    env = os.environ | {
        "SECRET_KEY": secret_key,
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
        "DATA_DIR": str(tmp_path / "data"),
    }
    url = engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen([sys.executable, "-c", WORKER, url], env=env)
    try:
        assert receiver.arrived.wait(60), "the worker never sent the message"
        worker.kill()
        worker.wait(10)
    finally:
        receiver.hold.set()
        receiver.hold = None
    message = session.exec(select(WebhookMessage)).one()
    session.refresh(message)
    assert message.delivered_at is None and message.attempts == 0  # nothing recorded
    assert deliver(engine) == 0  # claimed by the dead worker until its lease ends
    later = utcnow() + webhooks.CLAIM_LEASE + timedelta(seconds=1)
    assert deliver(engine, now=later) == 1
    first, second = receiver.wait_for(2)
    assert first.verified and second.verified
    assert first.message_id == second.message_id and second.body["data"]["who"] == "killed"
    session.refresh(message)
    assert webhooks.status_of(message) == "delivered" and message.attempts == 1


def test_a_rejected_link_is_link_deleted(session, subscribed):
    owner, org = subscribed
    org_row = session.get(Organization, org.id)
    org_row.require_approval_for_links = True
    session.add(org_row)
    agent = add_member(session, org, Role.AGENT)
    link = links.create_link(session, user=agent, organization_id=org.id, target_url="https://x.io")
    link_approval.reject_link(session, user=owner, organization_id=org.id, link_id=link.id)
    session.commit()
    events = queued(session)
    assert [t for t, _ in events] == ["link.created", "link.deleted"]
    assert events[1][1]["rejected"] is True and events[1][1]["slug"] == link.slug


def test_a_deleted_account_is_member_left(session, subscribed):
    owner, org = subscribed
    agent = add_member(session, org, Role.AGENT)
    account_settings.delete_account(
        session,
        user=agent,
        password=PASSWORD,
        confirm_email=agent.email,
        gateway=TestModeBilling(session),
    )
    session.commit()
    [(kind, data)] = queued(session)
    assert kind == "member.left" and data["email"] == agent.email and data["account_deleted"]


def test_changing_an_endpoints_events(session, team, private_ok):
    owner, org = team
    endpoint = add(session, owner, org, "http://127.0.0.1:9/a", ["member.joined"]).endpoint
    webhooks.update_events(
        session,
        user=owner,
        organization_id=org.id,
        endpoint_id=endpoint.id,
        event_types=["ticket.created", "link.created"],
    )
    session.commit()
    assert webhooks.event_types_of(endpoint) == ["link.created", "ticket.created"]
    assert webhooks.emit(session, org.id, "member.joined", {}) == 0
    assert webhooks.emit(session, org.id, "ticket.created", {}) == 1
    with pytest.raises(ValidationFailed):
        webhooks.update_events(
            session, user=owner, organization_id=org.id, endpoint_id=endpoint.id, event_types=[]
        )
    viewer = add_member(session, org, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        webhooks.update_events(
            session,
            user=viewer,
            organization_id=org.id,
            endpoint_id=endpoint.id,
            event_types=["ticket.created"],
        )
