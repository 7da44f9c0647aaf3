"""Tickets: PREFIX-NNN numbering (also under 20 parallel creates), the prefix and its history,
listing, replies, departments on tickets, and who may do what."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal.adapters.billing import TestModeBilling
from orgportal.db import LIVE_CHANGES
from orgportal.models import OutboxMessage, Role, Ticket, TicketMessage
from orgportal.services import billing, departments, organizations, support_settings, tickets
from orgportal.services.errors import NotFound, PermissionDenied, ValidationFailed
from orgportal.services.support_settings import SupportSubscriptionRequired
from tests.conftest import PG_URL
from tests.factories import add_member, audit_actions, make_org, make_user


def subscribe_support(session: Session, owner, org) -> None:
    """Buy the Support Subscription through the test checkout, as the Pay button does."""
    gateway = TestModeBilling(session)
    url = billing.start_checkout(
        session, gateway, user=owner, organization_id=org.id, kind="support"
    )
    billing.pay_test_checkout(session, gateway, user=owner, checkout_id=url.rsplit("/", 1)[1])
    session.commit()


def submit(session: Session, org, subject: str = "Broken link", **fields) -> Ticket:
    data = {
        "name": "Rita Requester",
        "email": "Rita@Example.com",
        "subject": subject,
        "message": "It does not work.",
        **fields,
    }
    ticket = tickets.submit_public_ticket(session, organization=org, data=data)
    session.commit()
    return ticket


def test_numbers_count_up_per_organization(session: Session):
    owner = make_user(session)
    org, other = make_org(session, owner), make_org(session, owner, "Other Org")
    assert [submit(session, org).number for _ in range(3)] == ["TKT-001", "TKT-002", "TKT-003"]
    assert submit(session, other).number == "TKT-001"
    first = session.exec(select(Ticket).where(Ticket.number == "TKT-001")).first()
    assert first.requester_email == "rita@example.com" and first.status == "open"
    message = session.exec(select(TicketMessage).where(TicketMessage.ticket_id == first.id)).one()
    assert message.from_requester and message.body == "It does not work."


def test_new_prefix_for_new_tickets_old_numbers_never_change_nor_repeat(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    old = submit(session, org)
    submit(session, org)

    saved = support_settings.set_ticket_prefix(
        session, user=owner, organization_id=org.id, prefix=" acme "
    )
    session.commit()
    assert saved == "ACME"
    assert submit(session, org).number == "ACME-001"
    session.refresh(old)
    assert old.number == "TKT-001"

    support_settings.set_ticket_prefix(session, user=owner, organization_id=org.id, prefix="TKT")
    session.commit()
    assert submit(session, org).number == "TKT-003"  # back to TKT: continues, never repeats
    assert audit_actions(session, org.id).count("support.prefix_changed") == 2


@pytest.mark.parametrize("bad", ["", "   ", "ACME-1", "ABCDEFGHIJK", "Ä1", "A B", "tkt!"])
def test_invalid_prefix_is_refused_and_nothing_changes(session: Session, bad: str):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    with pytest.raises(ValidationFailed) as refused:
        support_settings.set_ticket_prefix(session, user=owner, organization_id=org.id, prefix=bad)
    assert refused.value.errors == {"prefix": "Use 1–10 letters or digits, like ACME."}
    session.rollback()
    assert support_settings.current_prefix(session, org.id) == "TKT"
    assert "support.prefix_changed" not in audit_actions(session, org.id)


def test_ten_characters_are_allowed(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    assert (
        support_settings.set_ticket_prefix(
            session, user=owner, organization_id=org.id, prefix="abcde12345"
        )
        == "ABCDE12345"
    )


def test_prefix_needs_owner_or_admin_of_this_org_and_the_support_subscription(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    admin = add_member(session, org, Role.ADMIN)
    stranger = make_user(session)
    make_org(session, stranger, "Stranger Org")

    def change(user, prefix="NEW"):
        return support_settings.set_ticket_prefix(
            session, user=user, organization_id=org.id, prefix=prefix
        )

    with pytest.raises(SupportSubscriptionRequired):
        change(owner)
    subscribe_support(session, owner, org)
    with pytest.raises(PermissionDenied):
        change(agent)
    with pytest.raises(NotFound):
        change(stranger)  # an Admin of another organization learns nothing
    assert change(admin, "ADM") == "ADM"
    session.commit()
    assert support_settings.current_prefix(session, org.id) == "ADM"


def test_list_filters_by_status_and_department_newest_first_paginated(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    session.commit()
    made = [submit(session, org, f"Question {n}") for n in range(5)]
    tickets.assign_department(
        session, user=owner, organization_id=org.id, ticket_id=made[1].id, department_id=sales.id
    )
    tickets.close_ticket(session, user=owner, organization_id=org.id, ticket_id=made[2].id)
    session.commit()

    def numbers(**filters):
        page = tickets.list_tickets(session, user=owner, organization_id=org.id, **filters)
        return [t.number for t in page.tickets], page.total

    assert numbers() == (["TKT-005", "TKT-004", "TKT-003", "TKT-002", "TKT-001"], 5)
    assert numbers(limit=2, offset=2) == (["TKT-003", "TKT-002"], 5)
    assert numbers(status="closed") == (["TKT-003"], 1)
    assert numbers(status="open", department_id=sales.id) == (["TKT-002"], 1)
    assert numbers(unassigned=True, status="open") == (["TKT-005", "TKT-004", "TKT-001"], 3)
    with pytest.raises(ValidationFailed):
        numbers(status="deleted")


def test_agent_opens_replies_assigns_and_closes(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    agent = add_member(session, org, Role.AGENT)
    ticket = submit(session, org)

    tickets.close_ticket(session, user=agent, organization_id=org.id, ticket_id=ticket.id)
    assert ticket.status == "closed" and ticket.closed_at is not None
    tickets.reply(
        session, user=agent, organization_id=org.id, ticket_id=ticket.id, body="  Fixed it.  "
    )
    tickets.assign_department(
        session, user=agent, organization_id=org.id, ticket_id=ticket.id, department_id=sales.id
    )
    session.commit()

    detail = tickets.get_ticket(session, user=agent, organization_id=org.id, ticket_id=ticket.id)
    assert detail.ticket.status == "open"  # a reply reopens
    assert detail.department_name == "Sales"
    assert [(m.from_requester, m.body) for m in detail.messages] == [
        (True, "It does not work."),
        (False, "Fixed it."),
    ]
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.to_address == "rita@example.com"))
    assert [(m.subject, m.organization_id) for m in mail] == [("[TKT-001] Broken link", org.id)]
    with pytest.raises(ValidationFailed):
        tickets.reply(session, user=agent, organization_id=org.id, ticket_id=ticket.id, body=" ")


def test_viewers_billing_admins_and_outsiders_cannot_handle_tickets(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    other_owner = make_user(session)
    other = make_org(session, other_owner, "Other Org")
    theirs = submit(session, other)
    ticket = submit(session, org)
    viewer = add_member(session, org, Role.VIEWER)
    billing_admin = add_member(session, org, Role.BILLING_ADMIN)

    for user in (viewer, billing_admin):
        with pytest.raises(PermissionDenied):
            tickets.list_tickets(session, user=user, organization_id=org.id)
        with pytest.raises(PermissionDenied):
            tickets.reply(session, user=user, organization_id=org.id, ticket_id=ticket.id, body="x")
    with pytest.raises(NotFound):
        tickets.list_tickets(session, user=other_owner, organization_id=org.id)
    with pytest.raises(NotFound):  # another organization's ticket through my organization
        tickets.close_ticket(session, user=owner, organization_id=org.id, ticket_id=theirs.id)
    other_sales = departments.Department(organization_id=other.id, name="Theirs")
    session.add(other_sales)
    session.commit()
    with pytest.raises(NotFound):
        tickets.assign_department(
            session,
            user=owner,
            organization_id=org.id,
            ticket_id=ticket.id,
            department_id=other_sales.id,
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "Help\r\nBcc: all@evil.test"}, "subject"),
        ({"name": "Rita\nRequester"}, "name"),
        ({"message": "x" * 5001}, "message"),
        ({"message": 42}, "message"),
    ],
)
def test_bad_submissions_store_nothing(session: Session, fields: dict, field: str):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as refused:
        submit(session, org, **fields)
    assert field in refused.value.errors
    session.rollback()
    assert session.exec(select(Ticket)).all() == []
    with pytest.raises(ValidationFailed):
        tickets.validate_submission(["not", "an", "object"])


def test_deleting_the_organization_deletes_its_tickets(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    ticket = submit(session, org)
    tickets.assign_department(
        session, user=owner, organization_id=org.id, ticket_id=ticket.id, department_id=sales.id
    )
    tickets.reply(session, user=owner, organization_id=org.id, ticket_id=ticket.id, body="Hi")
    session.commit()
    organizations.delete_organization(
        session,
        user=owner,
        organization_id=org.id,
        confirm_name=org.name,
        gateway=TestModeBilling(session),
    )
    session.commit()
    session.expire_all()
    assert session.exec(select(Ticket)).all() == []
    assert session.exec(select(TicketMessage)).all() == []


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_twenty_parallel_creates_get_twenty_distinct_numbers_without_gaps(engine, session):
    owner = make_user(session)
    org = make_org(session, owner)
    barrier = threading.Barrier(20)
    numbers: list[str] = []
    errors: list[Exception] = []

    def create() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                numbers.append(submit(own, org).number)
            except Exception as exc:  # any failure is a finding
                errors.append(exc)

    for _ in range(2):  # the first round also races to create the counter row
        threads = [threading.Thread(target=create) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sorted(numbers) == [f"TKT-{n:03d}" for n in range(1, 41)]
    stored = session.exec(select(Ticket.number).where(Ticket.organization_id == org.id)).all()
    assert sorted(stored) == sorted(numbers)


def create(session: Session, user, org, **fields) -> Ticket:
    data = {
        "name": "Carl Customer",
        "email": "Carl@Example.com",
        "subject": "Called about an invoice",
        "message": "He cannot find the March invoice.",
        **fields,
    }
    ticket = tickets.create_ticket(session, user=user, organization_id=org.id, data=data)
    session.commit()
    return ticket


def test_agents_admins_and_owner_open_tickets_in_the_app_numbered_with_the_public_ones(
    session: Session,
):
    owner = make_user(session)
    org = make_org(session, owner)
    subscribe_support(session, owner, org)
    sales = departments.create_department(session, user=owner, organization_id=org.id, name="Sales")
    session.commit()
    agent = add_member(session, org, Role.AGENT)
    admin = add_member(session, org, Role.ADMIN)

    assert submit(session, org).number == "TKT-001"
    by_agent = create(session, agent, org, department_id=sales.id)
    assert by_agent.number == "TKT-002"
    assert submit(session, org).number == "TKT-003"
    assert create(session, admin, org).number == "TKT-004"
    assert create(session, owner, org).number == "TKT-005"

    detail = tickets.find_ticket(session, user=agent, organization_id=org.id, number="tkt-002")
    assert detail.ticket.id == by_agent.id and detail.department_name == "Sales"
    assert detail.ticket.requester_email == "carl@example.com"
    assert detail.ticket.status == "open" and detail.ticket.source == "app"
    assert [(m.from_requester, m.author_name, m.body) for m in detail.messages] == [
        (True, "Carl Customer", "He cannot find the March invoice.")
    ]
    assert audit_actions(session, org.id).count("ticket.created") == 3
    # like the public intake, opening a ticket mails nobody
    assert (
        session.exec(
            select(OutboxMessage).where(OutboxMessage.to_address == "carl@example.com")
        ).all()
        == []
    )
    with pytest.raises(NotFound):
        tickets.find_ticket(session, user=agent, organization_id=org.id, number="TKT-999")


def test_viewers_billing_admins_and_outsiders_cannot_open_tickets(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    billing_admin = add_member(session, org, Role.BILLING_ADMIN)
    stranger = make_user(session)
    make_org(session, stranger, "Stranger Org")
    for user in (viewer, billing_admin):
        with pytest.raises(PermissionDenied):
            create(session, user, org)
        with pytest.raises(PermissionDenied):
            create(session, user, org, email="bad")  # refused before the fields are read
    with pytest.raises(NotFound):
        create(session, stranger, org)
    mine = submit(session, org)
    with pytest.raises(PermissionDenied):
        tickets.find_ticket(session, user=viewer, organization_id=org.id, number=mine.number)
    session.rollback()
    assert [t.number for t in session.exec(select(Ticket))] == ["TKT-001"]
    assert "ticket.created" not in audit_actions(session, org.id)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": "  "}, "name"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "Help\r\nBcc: all@evil.test"}, "subject"),
        ({"message": ""}, "message"),
        ({"department_id": 999_999}, "department"),
        ({"department_id": "1"}, "department"),
    ],
)
def test_bad_fields_of_an_in_app_ticket_store_nothing_and_use_no_number(
    session: Session, fields: dict, field: str
):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as refused:
        create(session, owner, org, **fields)
    assert field in refused.value.errors and refused.value.status == 422
    session.rollback()
    assert session.exec(select(Ticket)).all() == []
    assert create(session, owner, org).number == "TKT-001"  # no number was used up


def test_another_organizations_department_is_refused(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    other_owner = make_user(session)
    other = make_org(session, other_owner, "Other Org")
    theirs = departments.Department(organization_id=other.id, name="Theirs")
    session.add(theirs)
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        create(session, owner, org, department_id=theirs.id)
    assert refused.value.errors == {"department": "Choose one of the departments."}


def _conversation_of(session: Session, ticket: Ticket, replies: int) -> list[str]:
    """`replies` more messages on `ticket`, a second apart, two of them at the same second
    (then the id decides); returns every body, oldest first."""
    first = session.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one()
    for n in range(1, replies + 1):
        at = first.created_at + timedelta(seconds=min(n, replies - 1))
        session.add(TicketMessage(ticket_id=ticket.id, author_name="A", body=f"#{n}", created_at=at))
    session.commit()
    return [first.body] + [f"#{n}" for n in range(1, replies + 1)]


def test_a_ticket_page_reads_its_latest_messages_and_counts_the_earlier_ones(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    ticket = submit(session, org)
    bodies = _conversation_of(session, ticket, 120)  # 121 messages

    detail = tickets.find_ticket(session, user=agent, organization_id=org.id, number="TKT-001")
    assert [m.body for m in detail.messages] == bodies[-tickets.CONVERSATION_PAGE :]
    assert detail.earlier_messages == 121 - tickets.CONVERSATION_PAGE
    more = tickets.find_ticket(
        session, user=agent, organization_id=org.id, number="TKT-001", messages=100
    )
    assert [m.body for m in more.messages] == bodies[-100:] and more.earlier_messages == 21
    every = tickets.get_ticket(
        session, user=agent, organization_id=org.id, ticket_id=ticket.id, messages=121
    )
    assert [m.body for m in every.messages] == bodies and every.earlier_messages == 0
    # a short conversation: all of it, nothing earlier
    short = submit(session, org, "Second")
    detail = tickets.get_ticket(session, user=agent, organization_id=org.id, ticket_id=short.id)
    assert [m.body for m in detail.messages] == ["It does not work."]
    assert detail.earlier_messages == 0
    # still checked: a Viewer reads no conversation, however few messages it asks for
    viewer = add_member(session, org, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        tickets.find_ticket(
            session, user=viewer, organization_id=org.id, number="TKT-001", messages=1
        )


def test_a_change_to_one_ticket_is_marked_for_its_own_pages_too(session: Session):
    """The organization's ticket lists refresh on `TOPIC`; the requester's reply pages of
    the one ticket that changed on `TICKET_TOPIC`, so another ticket's change leaves them."""
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    ticket, other = submit(session, org), submit(session, org, "Other")
    for change in (
        lambda: tickets.close_ticket(
            session, user=agent, organization_id=org.id, ticket_id=ticket.id
        ),
        lambda: tickets.reopen_ticket(
            session, user=agent, organization_id=org.id, ticket_id=ticket.id
        ),
        lambda: tickets.assign_department(
            session, user=agent, organization_id=org.id, ticket_id=ticket.id, department_id=None
        ),
        lambda: tickets.reply(
            session, user=agent, organization_id=org.id, ticket_id=ticket.id, body="Hello"
        ),
    ):
        session.info.pop(LIVE_CHANGES, None)
        change()
        marked = session.info[LIVE_CHANGES]
        assert (tickets.TOPIC, org.id) in marked and (tickets.TICKET_TOPIC, ticket.id) in marked
        assert (tickets.TICKET_TOPIC, other.id) not in marked
        session.commit()
