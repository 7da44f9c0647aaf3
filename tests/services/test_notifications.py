"""Notification mails (SPEC §17): each kind reaches the right people and nobody else, every
user's settings are honoured, a usage threshold is announced once, and each mail is HTML
and plain text under the organization's name and logo (over a real SMTP server)."""

import email
import socket
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select, update

from orgportal.adapters.billing import TestModeBilling
from orgportal.adapters.mail import SmtpTransport
from orgportal.config import settings
from orgportal.models import OutboxMessage, Role, TicketMessage, UsageAlert
from orgportal.services import (
    accounts,
    billing,
    departments,
    invitations,
    links,
    notifications,
    organizations,
    outbox,
    plans,
    tickets,
    usage,
)
from orgportal.services.errors import ValidationFailed
from orgportal.services.notification_mail import settings_url
from tests.factories import add_member, bulk_links, make_org, make_user, open_session
from tests.services.test_billing import subscribe
from tests.services.test_tickets import submit, subscribe_support

SENDER = "orgportal <no-reply@orgportal.test>"


def notified(session: Session, kind: str) -> dict[str, OutboxMessage]:
    """The notification mails of one kind so far, by recipient."""
    rows = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == f"notify_{kind}")
    ).all()
    return {row.to_address: row for row in rows}


def forget_mails(session: Session) -> None:
    for row in session.exec(select(OutboxMessage)).all():
        session.delete(row)
    session.commit()


@pytest.fixture
def team(session: Session):
    """An organization with one member of each role (and a second Agent)."""
    owner = make_user(session, "owner@example.com")
    org = make_org(session, owner)
    people = {"owner": owner}
    for name, role in (
        ("admin", Role.ADMIN),
        ("billing", Role.BILLING_ADMIN),
        ("agent", Role.AGENT),
        ("agent2", Role.AGENT),
        ("viewer", Role.VIEWER),
    ):
        people[name] = add_member(session, org, role, make_user(session, f"{name}@example.com"))
    forget_mails(session)
    return org, people


def addresses(*names: str) -> set[str]:
    return {f"{name}@example.com" for name in names}


# --- new tickets -------------------------------------------------------------------------------


def test_a_ticket_without_department_reaches_everyone_who_handles_tickets(session, team):
    org, _ = team
    ticket = submit(session, org, "Broken link")
    mails = notified(session, notifications.TICKET_CREATED)
    assert set(mails) == addresses("owner", "admin", "agent", "agent2")  # no billing, viewer
    mail = mails["agent@example.com"]
    assert mail.subject == f"[{ticket.number}] New ticket: Broken link"
    assert mail.link == f"{settings.public_url}/tickets/{ticket.number}"
    assert mail.organization_id == org.id


def test_a_department_ticket_reaches_its_agents_and_not_its_creator(session, team):
    org, people = team
    owner = people["owner"]
    subscribe_support(session, owner, org)
    dept = departments.create_department(session, user=owner, organization_id=org.id, name="Web")
    for name in ("agent", "viewer", "admin"):  # a Viewer in it cannot handle tickets
        departments.assign_member(
            session,
            user=owner,
            organization_id=org.id,
            department_id=dept.id,
            member_id=people[name].id,
        )
    session.commit()
    forget_mails(session)

    tickets.create_ticket(
        session,
        user=people["admin"],
        organization_id=org.id,
        data={
            "name": "Rita",
            "email": "rita@example.com",
            "subject": "Invoice",
            "message": "Where is it?",
            "department_id": dept.id,
        },
    )
    session.commit()
    assert set(notified(session, notifications.TICKET_CREATED)) == addresses("agent")


def test_a_department_without_agents_falls_back_to_everyone_who_handles_tickets(session, team):
    org, people = team
    owner = people["owner"]
    subscribe_support(session, owner, org)
    dept = departments.create_department(session, user=owner, organization_id=org.id, name="Web")
    departments.assign_member(
        session,
        user=owner,
        organization_id=org.id,
        department_id=dept.id,
        member_id=people["viewer"].id,
    )
    ticket = submit(session, org)
    forget_mails(session)
    ticket.department_id = dept.id
    notifications.ticket_created(session, ticket)
    session.commit()
    assert set(notified(session, notifications.TICKET_CREATED)) == addresses(
        "owner", "admin", "agent", "agent2"
    )


# --- customer replies --------------------------------------------------------------------------


def customer_reply(session: Session, ticket) -> None:
    message = TicketMessage(
        ticket_id=ticket.id, author_name="Rita Requester", from_requester=True, body="Still broken"
    )
    session.add(message)
    notifications.customer_replied(session, ticket, message)
    session.commit()


def test_a_customer_reply_reaches_the_agent_who_answered_the_ticket(session, team):
    org, people = team
    ticket = submit(session, org)
    tickets.reply(
        session, user=people["agent2"], organization_id=org.id, ticket_id=ticket.id, body="Hi"
    )
    session.commit()
    forget_mails(session)

    customer_reply(session, ticket)
    mails = notified(session, notifications.CUSTOMER_REPLY)
    assert set(mails) == addresses("agent2")
    assert "Still broken" in mails["agent2@example.com"].body_text


def test_a_customer_reply_before_any_answer_reaches_the_ticket_agents(session, team):
    org, people = team
    ticket = submit(session, org)
    forget_mails(session)
    customer_reply(session, ticket)
    assert set(notified(session, notifications.CUSTOMER_REPLY)) == addresses(
        "owner", "admin", "agent", "agent2"
    )


def test_a_customer_reply_skips_an_answerer_who_left(session, team):
    org, people = team
    ticket = submit(session, org)
    tickets.reply(
        session, user=people["agent2"], organization_id=org.id, ticket_id=ticket.id, body="Hi"
    )
    session.commit()
    organizations_remove(session, org, people["owner"], people["agent2"])
    forget_mails(session)
    customer_reply(session, ticket)
    assert set(notified(session, notifications.CUSTOMER_REPLY)) == addresses(
        "owner", "admin", "agent"
    )


def organizations_remove(session: Session, org, owner, member) -> None:
    from orgportal.services import members

    members.remove_member(session, user=owner, organization_id=org.id, member_id=member.id)
    session.commit()


# --- members ---------------------------------------------------------------------------------


def test_a_member_who_joins_is_announced_to_the_owner_and_admins(session, team):
    org, people = team
    subscribe(session, people["owner"], org, plan_key="professional")  # 25 members
    invitations.create_invite(
        session, user=people["owner"], organization_id=org.id, email="new@example.com", role="admin"
    )
    session.commit()
    token = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == "new@example.com")
    ).one().link.rsplit("/", 1)[-1]
    newcomer = make_user(session, "new@example.com")
    raw, _ = open_session(session, newcomer)
    session.commit()
    viewer = accounts.authenticate(session, raw)
    invitations.accept_invite(session, viewer=viewer, token=token)
    session.commit()

    mails = notified(session, notifications.MEMBER_JOINED)
    assert set(mails) == addresses("owner", "admin")  # not the newcomer, though an Admin now
    assert "joined as Admin" in mails["owner@example.com"].body_text


# --- usage -----------------------------------------------------------------------------------


def add_link(session: Session, user, org_id) -> int:
    link = links.create_link(
        session, user=user, organization_id=org_id, target_url="https://example.com/x"
    )
    session.commit()
    return link.id


def test_usage_thresholds_are_announced_once_to_the_owner_and_billing_admins(session, team):
    org, people = team
    owner = people["owner"]
    limit = plans.FREE.links  # 50
    bulk_links(session, owner=owner, organization_id=org.id, count=limit * 8 // 10 - 1, prefix="a")
    add_link(session, owner, org.id)  # 40 of 50: 80 %
    mails = notified(session, notifications.USAGE_THRESHOLD)
    assert set(mails) == addresses("owner", "billing")
    assert "used 80 % of its links limit" in mails["owner@example.com"].subject

    first = add_link(session, owner, org.id)  # 41: no new mail on every change
    second = add_link(session, owner, org.id)  # 42
    for link_id in (first, second, first - 1):  # 39: below 80 % again
        links.delete_link(session, user=owner, organization_id=org.id, link_id=link_id)
    session.commit()
    add_link(session, owner, org.id)  # back across 80 % in the same month: still once
    assert len(session.exec(select(OutboxMessage)).all()) == 2

    bulk_links(session, owner=owner, organization_id=org.id, count=limit - 41, prefix="b")  # 49
    add_link(session, owner, org.id)  # 50 of 50
    full = [m for m in notified_all(session) if "reached its links limit" in m.subject]
    assert {m.to_address for m in full} == addresses("owner", "billing")


def notified_all(session: Session) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage).where(
                OutboxMessage.kind == f"notify_{notifications.USAGE_THRESHOLD}"
            )
        ).all()
    )


def test_a_threshold_crossed_again_in_a_new_month_is_announced_again(session, team):
    org, people = team
    owner = people["owner"]
    bulk_links(session, owner=owner, organization_id=org.id, count=39, prefix="a")
    link_id = add_link(session, owner, org.id)
    links.delete_link(session, user=owner, organization_id=org.id, link_id=link_id)
    session.exec(update(UsageAlert).values(period="2000-01"))  # as if a month had passed
    session.commit()
    add_link(session, owner, org.id)
    assert len(notified_all(session)) == 4  # owner and billing admin, twice


def test_one_jump_past_both_thresholds_says_only_the_limit_was_reached(session, team):
    org, _ = team
    plan = plans.FREE
    notifications.usage_grew(session, org.id, plan, usage.Usage(links=39, storage_bytes=0), 11)
    session.commit()
    subjects = {m.subject for m in notified_all(session)}
    assert subjects == {f"{org.name} reached its links limit"}
    assert set(session.exec(select(UsageAlert.threshold)).all()) == {80, 100}


def test_storage_has_its_own_thresholds(session, team):
    org, _ = team
    limit = plans.FREE.storage_bytes
    before = usage.Usage(links=0, storage_bytes=limit * 8 // 10 - 1)
    notifications.usage_grew(session, org.id, plans.FREE, before, 0, 1)  # a 1-byte file
    session.commit()
    mails = notified(session, notifications.USAGE_THRESHOLD)
    assert set(mails) == addresses("owner", "billing")
    assert mails["owner@example.com"].subject == f"{org.name} used 80 % of its storage limit"
    assert "100 MB" in mails["owner@example.com"].body_text
    notifications.usage_grew(session, org.id, plans.FREE, before, 0, 1)  # the same crossing
    session.commit()
    assert len(notified_all(session)) == 2


def test_a_personal_pool_or_an_item_below_the_thresholds_sends_nothing(session, team):
    org, people = team
    owner = people["owner"]
    add_link(session, owner, None)
    add_link(session, owner, org.id)
    assert notified_all(session) == []


# --- payments --------------------------------------------------------------------------------


def test_a_failed_payment_reaches_the_owner_and_billing_admins(session, team):
    org, people = team
    subscribe(session, people["owner"], org)
    forget_mails(session)
    gateway = TestModeBilling(session)
    billing.test_mode_fail_payment(session, gateway, user=people["owner"], organization_id=org.id)
    session.commit()
    mails = notified(session, notifications.PAYMENT_FAILED)
    assert set(mails) == addresses("owner", "billing")
    assert mails["billing@example.com"].subject == f"Payment failed for {org.name}"

    sub = plans.active_subscription(session, org.id, "plan")
    paid = gateway.invoice_event("invoice.paid", sub.stripe_subscription_id)
    billing.handle_event(session, gateway, paid)
    session.commit()
    assert len(notified(session, notifications.PAYMENT_FAILED)) == 2  # a paid one says nothing


def test_a_failed_personal_payment_reaches_its_user(session):
    user = make_user(session, "solo@example.com")
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=user, organization_id=None, kind="plan", plan_key="starter"
    )
    billing.pay_test_checkout(session, gateway, user=user, checkout_id=url.rsplit("/", 1)[1])
    session.commit()
    billing.test_mode_fail_payment(session, gateway, user=user, organization_id=None)
    session.commit()
    mails = notified(session, notifications.PAYMENT_FAILED)
    assert set(mails) == {"solo@example.com"}
    assert mails["solo@example.com"].link.endswith("/account/plan")


# --- preferences -----------------------------------------------------------------------------


def test_every_kind_is_on_until_its_user_turns_it_off(session, team):
    org, people = team
    agent = people["agent"]
    assert all(on for _, on in notifications.preferences(session, user=agent))
    keep = set(notifications.KIND_KEYS) - {notifications.TICKET_CREATED}
    notifications.update_preferences(session, user=agent, enabled=keep)
    session.commit()
    assert {kind.key for kind, on in notifications.preferences(session, user=agent) if not on} == {
        notifications.TICKET_CREATED
    }

    ticket = submit(session, org)
    assert set(notified(session, notifications.TICKET_CREATED)) == addresses(
        "owner", "admin", "agent2"
    )
    tickets.reply(session, user=agent, organization_id=org.id, ticket_id=ticket.id, body="Hi")
    session.commit()
    customer_reply(session, ticket)  # another kind still reaches them
    assert set(notified(session, notifications.CUSTOMER_REPLY)) == addresses("agent")


def test_each_sender_honours_the_settings(session, team):
    org, people = team
    for name in ("owner", "billing", "admin"):
        notifications.update_preferences(session, user=people[name], enabled=())
    session.commit()
    submit(session, org)
    subscribe(session, people["owner"], org)
    billing.test_mode_fail_payment(
        session, TestModeBilling(session), user=people["owner"], organization_id=org.id
    )
    bulk_links(session, owner=people["owner"], organization_id=org.id, count=399, prefix="a")
    add_link(session, people["owner"], org.id)  # Starter: 400 of 500 links
    notifications.member_joined(session, org, people["viewer"], Role.VIEWER)
    session.commit()
    sent = session.exec(
        select(OutboxMessage.to_address).where(col(OutboxMessage.kind).startswith("notify_"))
    ).all()
    assert sorted(sent) == ["agent2@example.com", "agent@example.com"]  # the new ticket only


def test_an_unknown_kind_is_refused_and_changes_nothing(session, team):
    _, people = team
    with pytest.raises(ValidationFailed):
        notifications.update_preferences(
            session, user=people["agent"], enabled={"ticket_created", "everything"}
        )
    session.rollback()
    assert all(on for _, on in notifications.preferences(session, user=people["agent"]))


# --- the mail itself ---------------------------------------------------------------------------


def test_mails_escape_what_people_wrote_and_carry_the_settings_link(session, team):
    org, people = team
    org = organizations.update_profile(
        session,
        user=people["owner"],
        organization_id=org.id,
        name="Acme & <Partners>",
        description="",
        logo_url="https://cdn.example.com/logo.png?a=1&b=2",
    )
    session.commit()
    submit(session, org, '<img src=x onerror="alert(1)">')
    mail = notified(session, notifications.TICKET_CREATED)["agent@example.com"]
    assert "<img src=x" not in mail.body_html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in mail.body_html
    assert "Acme &amp; &lt;Partners&gt;" in mail.body_html
    assert 'src="https://cdn.example.com/logo.png?a=1&amp;b=2"' in mail.body_html
    assert '<img src=x onerror="alert(1)">' in mail.body_text  # plain text needs no escaping
    assert mail.body_text.startswith("Acme & <Partners>\n")
    for body in (mail.body_text, mail.body_html):
        assert settings_url() in body
    assert settings_url() == f"{settings.public_url}/account/notifications"


def test_an_uploaded_logo_is_linked_under_the_public_url(session, team):
    org, _ = team
    org.logo_url = "/api/logos/AAAAAAAAAAAAAAAAAAAAAA.png"
    session.add(org)
    session.commit()
    submit(session, org)
    html = notified(session, notifications.TICKET_CREATED)["owner@example.com"].body_html
    assert f'src="{settings.public_url}/api/logos/AAAAAAAAAAAAAAAAAAAAAA.png"' in html
    assert f'alt="{org.name} logo"' in html


class Inbox:
    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def test_over_smtp_a_notification_is_html_and_text_and_a_plain_mail_stays_plain(
    engine, session, team, smtp_server
):
    inbox, url = smtp_server
    org, _ = team
    submit(session, org, "Café is down")
    outbox.queue_mail(session, to="plain@example.com", subject="Plain", body="Just text")
    session.commit()
    delivered = outbox.deliver_pending(engine, SmtpTransport(url, SENDER))
    assert delivered == 5

    received = {m["To"]: m for m in inbox.messages}
    note = received["agent@example.com"]
    assert note.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part for part in note.get_payload()}
    assert set(parts) == {"text/plain", "text/html"}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    for body in (text, html):
        assert org.name in body and "Café is down" in body and "/account/notifications" in body
    assert html.lstrip().startswith("<!DOCTYPE html>")

    plain = received["plain@example.com"]
    assert plain.get_content_type() == "text/plain"
    assert plain.get_payload(decode=True).decode().strip() == "Just text"
