"""The active workspace remembered per user (SPEC §1): a new session (sign-in,
two-factor sign-in, invite registration) reopens the workspace last used while the user is
still a member of it; the switcher lists the most recently used first; accepting an invite
lands in that organization and remembers it. Also migration 0017's fill of existing rows."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlmodel import Session, select

from alembic import command
from orgportal.adapters.billing import TestModeBilling
from orgportal.config import settings
from orgportal.db import make_engine
from orgportal.models import Membership, OutboxMessage, Role, User
from orgportal.models.base import utcnow
from orgportal.services import (
    accounts,
    invitations,
    members,
    organizations,
    secret_box,
    two_factor,
)
from orgportal.services.errors import NotFound
from tests.conftest import BACKENDS, scratch_postgres_database
from tests.factories import BROWSER, PASSWORD, add_member, make_org, make_user, open_session
from tests.test_migrations import insert_row

ROOT = Path(__file__).resolve().parents[2]


def sign_in(session: Session, user: User) -> accounts.Viewer:
    """What the sign-in page does: password, ticket, then the cookie route opens the session."""
    ticket = accounts.sign_in(session, email=user.email, password=PASSWORD, browser=BROWSER)
    assert isinstance(ticket, str)
    raw, _ = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    return accounts.authenticate(session, raw)


def switch(session: Session, viewer: accounts.Viewer, organization_id: int | None) -> None:
    accounts.switch_workspace(session, viewer, organization_id)
    session.commit()


def names(session: Session, user: User) -> list[str]:
    return [w.name for w in accounts.list_workspaces(session, user)]


def invite_token(session: Session, owner: User, org_id: int, email: str) -> str:
    invitations.create_invite(
        session, user=owner, organization_id=org_id, email=email, role=Role.AGENT
    )
    session.commit()
    mail = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    return mail.link.rsplit("/", 1)[-1]


# --- a new session opens the workspace last used --------------------------------------------


def test_a_new_user_starts_in_the_personal_workspace(session):
    user = make_user(session)
    assert sign_in(session, user).session.active_org_id is None


def test_sign_in_reopens_the_workspace_last_used(session):
    owner = make_user(session)
    first, second = make_org(session, owner, "First"), make_org(session, owner, "Second")
    viewer = sign_in(session, owner)
    assert viewer.session.active_org_id is None  # never chose one: the Personal Workspace
    switch(session, viewer, second.id)
    assert sign_in(session, owner).session.active_org_id == second.id
    switch(session, sign_in(session, owner), first.id)
    assert sign_in(session, owner).session.active_org_id == first.id
    # choosing the Personal Workspace is remembered too
    switch(session, sign_in(session, owner), None)
    assert sign_in(session, owner).session.active_org_id is None


def test_a_new_session_does_not_move_the_other_open_sessions(session):
    owner = make_user(session)
    org = make_org(session, owner)
    laptop = sign_in(session, owner)
    phone = sign_in(session, owner)
    switch(session, phone, org.id)
    session.refresh(laptop.session)
    assert laptop.session.active_org_id is None  # each open session keeps its own
    assert sign_in(session, owner).session.active_org_id == org.id


def test_two_factor_sign_in_reopens_the_workspace_last_used(session, monkeypatch):
    monkeypatch.setattr(settings, "secret_key", "test secret key for workspaces")
    secret_box._master_key.cache_clear()
    owner = make_user(session)
    org = make_org(session, owner)
    switch(session, sign_in(session, owner), org.id)
    setup = two_factor.start_setup(session, user=owner)
    codes = two_factor.confirm_setup(session, user=owner, code=pyotp.TOTP(setup.secret).now())
    session.commit()
    step = accounts.sign_in(session, email=owner.email, password=PASSWORD, browser=BROWSER)
    assert isinstance(step, accounts.SecondStep)
    ticket = two_factor.complete_sign_in(
        session, challenge=step.challenge, code=codes[0], browser=BROWSER
    )
    _, row = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    assert row.active_org_id == org.id
    secret_box._master_key.cache_clear()


def test_left_or_removed_or_deleted_falls_back_to_the_personal_workspace(session):
    owner, member = make_user(session), make_user(session)
    org = make_org(session, owner, "Kept")
    doomed = make_org(session, owner, "Doomed")
    add_member(session, org, Role.AGENT, member)

    switch(session, sign_in(session, member), org.id)
    members.leave(session, user=member, organization_id=org.id)
    session.commit()
    assert sign_in(session, member).session.active_org_id is None

    add_member(session, org, Role.AGENT, member)
    switch(session, sign_in(session, member), org.id)
    members.remove_member(session, user=owner, organization_id=org.id, member_id=member.id)
    session.commit()
    assert sign_in(session, member).session.active_org_id is None

    switch(session, sign_in(session, owner), doomed.id)
    organizations.delete_organization(
        session,
        user=owner,
        organization_id=doomed.id,
        confirm_name="Doomed",
        gateway=TestModeBilling(session),
    )
    session.commit()
    assert sign_in(session, owner).session.active_org_id is None


def test_switching_to_an_organization_of_others_is_refused_and_remembers_nothing(session):
    user, stranger = make_user(session), make_user(session)
    mine, theirs = make_org(session, user, "Mine"), make_org(session, stranger, "Theirs")
    viewer = sign_in(session, user)
    switch(session, viewer, mine.id)
    with pytest.raises(NotFound):
        accounts.switch_workspace(session, viewer, theirs.id)
    session.rollback()
    assert session.get(User, user.id).last_org_id == mine.id
    assert sign_in(session, user).session.active_org_id == mine.id


def test_a_ticket_naming_an_organization_of_others_opens_the_last_used_one(session):
    """Tickets name an organization only after joining it; even so, a membership is needed."""
    user, stranger = make_user(session), make_user(session)
    mine, theirs = make_org(session, user, "Mine"), make_org(session, stranger, "Theirs")
    switch(session, sign_in(session, user), mine.id)
    _, row = open_session(session, user, theirs.id)
    assert row.active_org_id == mine.id


# --- the switcher's order -------------------------------------------------------------------


def test_the_switcher_lists_the_most_recently_used_first(session):
    user = make_user(session)
    orgs = {name: make_org(session, user, name) for name in ("Beta", "alpha", "Gamma")}
    # never opened in the app (created through the API): by name, after the Personal one
    assert names(session, user) == ["Personal Workspace", "alpha", "Beta", "Gamma"]
    viewer = sign_in(session, user)
    switch(session, viewer, orgs["Gamma"].id)
    assert names(session, user) == ["Personal Workspace", "Gamma", "alpha", "Beta"]
    switch(session, viewer, orgs["Beta"].id)
    assert names(session, user) == ["Personal Workspace", "Beta", "Gamma", "alpha"]
    switch(session, viewer, orgs["Gamma"].id)
    assert names(session, user) == ["Personal Workspace", "Gamma", "Beta", "alpha"]
    # the Personal Workspace keeps its place at the top, used or not
    switch(session, viewer, None)
    assert names(session, user) == ["Personal Workspace", "Gamma", "Beta", "alpha"]


def test_a_sign_in_into_the_last_workspace_counts_as_using_it(session):
    user = make_user(session)
    a, b = make_org(session, user, "Org A"), make_org(session, user, "Org B")
    viewer = sign_in(session, user)
    switch(session, viewer, a.id)
    switch(session, viewer, b.id)
    membership = session.exec(select(Membership).where(Membership.organization_id == b.id)).one()
    before = membership.last_used_at
    sign_in(session, user)
    session.refresh(membership)
    assert membership.last_used_at >= before
    assert names(session, user) == ["Personal Workspace", "Org B", "Org A"]


# --- invitations ----------------------------------------------------------------------------


def test_accepting_an_invite_lands_there_and_the_next_sign_in_too(session):
    owner, invitee = make_user(session), make_user(session, "agent@example.com")
    mine = make_org(session, invitee, "Own Org")
    org = make_org(session, owner, "Inviting Org")
    viewer = sign_in(session, invitee)
    switch(session, viewer, mine.id)
    token = invite_token(session, owner, org.id, "agent@example.com")
    assert invitations.accept_invite(session, viewer=viewer, token=token) == org.id
    session.commit()
    assert viewer.session.active_org_id == org.id
    assert names(session, invitee) == ["Personal Workspace", "Inviting Org", "Own Org"]
    assert sign_in(session, invitee).session.active_org_id == org.id


def test_an_invited_agent_who_registers_lands_there_on_every_sign_in(session):
    owner = make_user(session)
    org = make_org(session, owner, "Agency")
    token = invite_token(session, owner, org.id, "new-agent@example.com")
    user, org_id = invitations.accept_as_new_user(
        session, token=token, password=PASSWORD, first_name="New", last_name="Agent"
    )
    ticket = accounts.issue_sign_in_ticket(session, user, org_id, browser=BROWSER)
    _, row = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    assert row.active_org_id == org.id
    assert sign_in(session, user).session.active_org_id == org.id  # a later sign-in


def test_accept_on_return_only_for_a_session_just_opened(session):
    """The invite page accepts without a click only right after its own Sign in; a link
    with the marker opened in an older session shows Accept and Decline as usual."""
    user = make_user(session)
    assert invitations.accepts_on_return(sign_in(session, user))
    raw, row = open_session(session, user)
    row.created_at = utcnow() - invitations.ACCEPT_ON_RETURN_WITHIN - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert not invitations.accepts_on_return(accounts.authenticate(session, raw))


# --- migration 0017 -------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a scratch PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    with scratch_postgres_database() as url:
        yield url


def test_0017_fills_the_last_workspace_and_last_use_from_the_sessions(empty_database):
    """A user's last workspace is the one their latest session had open, if still a member;
    a membership was last used when a session that had it open was last seen, else when the
    user joined."""
    url = empty_database
    config = Config(ROOT / "alembic.ini")
    config.attributes["url"] = url
    command.upgrade(config, "0016")
    engine = make_engine(url)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        day = day.replace(tzinfo=None)  # as the app's UTCDateTime stores it there
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            ids: dict[str, int | None] = {}
            ids["user"] = owner = insert_row(conn, meta, "user", ids, "owner")
            left = insert_row(conn, meta, "user", ids, "left")
            personal = insert_row(conn, meta, "user", ids, "personal")
            ids["organization"] = a = insert_row(conn, meta, "organization", ids, "a")
            b = insert_row(conn, meta, "organization", ids, "b")
            for user, org, joined in ((owner, a, 1), (owner, b, 2), (personal, a, 3)):
                insert_row(conn, meta, "membership", ids, "m", organization_id=org,
                           user_id=user, role="owner", joined_at=day + timedelta(days=joined))  # fmt: skip

            def session_row(tag: str, user: int, org: int | None, seen: int | None, made: int):
                insert_row(conn, meta, "user_session", ids, tag, user_id=user,
                           active_org_id=org, token_hash=f"{tag}-hash",
                           created_at=day + timedelta(days=made),
                           last_seen_at=day + timedelta(days=seen) if seen else None)  # fmt: skip

            session_row("o1", owner, b, 20, 10)  # latest seen: b
            session_row("o2", owner, a, 15, 12)
            session_row("o3", owner, None, None, 5)
            session_row("l1", left, b, 30, 30)  # left b since: not a member
            session_row("p1", personal, a, 8, 8)
            session_row("p2", personal, None, 9, 9)  # latest: the Personal Workspace
        command.upgrade(config, "0017")
        with engine.connect() as conn:
            last = dict(conn.execute(text('SELECT id, last_org_id FROM "user"')).all())
            used = {
                (u, o): str(at)[:10]
                for u, o, at in conn.execute(
                    text("SELECT user_id, organization_id, last_used_at FROM membership")
                )
            }
        assert last == {owner: b, left: None, personal: None}
        assert used == {
            (owner, a): "2026-01-16",  # its session, last seen on day 15
            (owner, b): "2026-01-21",
            (personal, a): "2026-01-09",
        }
        command.downgrade(config, "0016")
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            assert "last_org_id" not in meta.tables["user"].columns
            assert "last_used_at" not in meta.tables["membership"].columns
            assert conn.execute(text('SELECT count(*) FROM "user"')).scalar_one() == 3
    finally:
        engine.dispose()
