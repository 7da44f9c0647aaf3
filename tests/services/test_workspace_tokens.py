"""Workspace tokens (SPEC §8): what switching workspace through the API hands out."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from orgportal import security
from orgportal.models import ApiKey, Link, Role, WorkspaceToken
from orgportal.models.base import utcnow
from orgportal.services import api_keys, links, members, organizations, workspace_tokens
from orgportal.services.errors import NotAuthenticated, NotFound
from tests.factories import PASSWORD, add_member, make_org, make_user


def key_of(session: Session, user, organization_id=None) -> tuple[str, ApiKey]:
    raw, key = api_keys.create_key(
        session, user=user, name="script", active_org_id=organization_id, password=PASSWORD
    )
    session.commit()
    return raw, key


@pytest.fixture
def world(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    raw, key = key_of(session, agent)  # in the Personal Workspace
    return owner, org, agent, raw, key


def test_a_token_carries_the_organization_and_leaves_the_key_alone(session: Session, world):
    owner, org, agent, raw, key = world
    caller = api_keys.authenticate(session, raw)
    secret, token, organization, role = workspace_tokens.issue(
        session, caller=caller, organization_id=org.id
    )
    session.commit()
    assert (organization.id, role) == (org.id, Role.AGENT)
    assert secret.startswith("opw_") and token.token_hash == security.token_hash(secret)
    assert token.expires_at - token.created_at == workspace_tokens.LIFETIME
    as_token = workspace_tokens.authenticate_bearer(session, secret)
    assert (as_token.user.id, as_token.key_id, as_token.active_org_id) == (agent.id, key.id, org.id)
    assert as_token.token_id == token.id
    assert api_keys.active_workspace(session, as_token) == org.id
    session.expire_all()
    assert session.get(ApiKey, key.id).active_org_id is None  # the key did not move
    assert workspace_tokens.authenticate_bearer(session, raw).active_org_id is None


def test_a_token_for_the_personal_workspace(session: Session, world):
    _, _, agent, raw, _ = world
    secret, token, organization, role = workspace_tokens.issue(
        session, caller=api_keys.authenticate(session, raw), organization_id=None
    )
    assert (organization, role, token.organization_id) == (None, Role.OWNER, None)
    assert workspace_tokens.authenticate(session, secret).active_org_id is None


def test_only_members_get_a_token(session: Session, world):
    _, org, _, _, _ = world
    stranger_raw, _ = key_of(session, make_user(session))
    caller = api_keys.authenticate(session, stranger_raw)
    with pytest.raises(NotFound):
        workspace_tokens.issue(session, caller=caller, organization_id=org.id)
    assert session.exec(select(WorkspaceToken)).all() == []


def issued(session: Session, raw: str, organization_id: int | None) -> tuple[str, WorkspaceToken]:
    secret, token, _, _ = workspace_tokens.issue(
        session, caller=api_keys.authenticate(session, raw), organization_id=organization_id
    )
    session.commit()
    return secret, token


def test_unknown_expired_and_revoked_tokens_are_refused(session: Session, world):
    _, org, _, raw, _ = world
    with pytest.raises(NotAuthenticated, match="not valid"):
        workspace_tokens.authenticate_bearer(session, "opw_" + security.new_token())
    secret, token = issued(session, raw, org.id)
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.add(token)
    session.commit()
    with pytest.raises(NotAuthenticated, match="expired"):
        workspace_tokens.authenticate(session, secret)
    secret, token = issued(session, raw, org.id)
    workspace_tokens.revoke(session, caller=workspace_tokens.authenticate(session, secret))
    session.commit()
    with pytest.raises(NotAuthenticated, match="revoked"):
        workspace_tokens.authenticate(session, secret)


def test_revoking_the_key_ends_its_tokens(session: Session, world):
    _, org, agent, raw, key = world
    secret, _ = issued(session, raw, org.id)
    api_keys.revoke_key(session, user=agent, key_id=key.id)
    session.commit()
    with pytest.raises(NotAuthenticated, match="API key this workspace token came from"):
        workspace_tokens.authenticate(session, secret)
    with pytest.raises(NotAuthenticated):  # nor does the revoked key mint new ones
        issued(session, raw, None)


def test_a_token_stops_when_its_user_leaves_the_organization(session: Session, world):
    owner, org, agent, raw, _ = world
    secret, _ = issued(session, raw, org.id)
    caller = workspace_tokens.authenticate(session, secret)  # authenticated just before…
    members.remove_member(session, user=owner, organization_id=org.id, member_id=agent.id)
    session.commit()
    with pytest.raises(NotAuthenticated, match="no longer a member"):
        workspace_tokens.authenticate(session, secret)
    # …a call already under way never falls back to the Personal Workspace
    with pytest.raises(NotAuthenticated, match="no longer a member"):
        api_keys.active_workspace(session, caller)
    assert session.exec(select(Link)).all() == []


def test_only_a_token_can_be_revoked_this_way(session: Session, world):
    _, _, _, raw, key = world
    with pytest.raises(workspace_tokens.NotAWorkspaceToken):
        workspace_tokens.revoke(session, caller=api_keys.authenticate(session, raw))
    assert session.get(ApiKey, key.id).revoked_at is None


def test_expired_tokens_of_the_key_are_deleted_when_it_switches_again(session: Session, world):
    _, org, _, raw, _ = world
    _, old = issued(session, raw, org.id)
    _, live = issued(session, raw, None)
    old.expires_at = utcnow() - timedelta(minutes=1)
    session.add(old)
    session.commit()
    _, newest = issued(session, raw, org.id)
    ids = set(session.exec(select(WorkspaceToken.id)))
    assert ids == {live.id, newest.id}


def test_deleting_the_organization_deletes_its_tokens(session: Session, world):
    owner, org, _, raw, _ = world
    secret, _ = issued(session, raw, org.id)
    organizations.delete_organization(
        session, user=owner, organization_id=org.id, confirm_name=org.name
    )
    session.commit()
    with pytest.raises(NotAuthenticated, match="not valid"):
        workspace_tokens.authenticate(session, secret)


def test_a_token_creates_links_in_its_organization(session: Session, world):
    _, org, agent, raw, _ = world
    secret, _ = issued(session, raw, org.id)
    caller = workspace_tokens.authenticate(session, secret)
    link = links.create_link(
        session, user=caller.user, organization_id=api_keys.active_workspace(session, caller),
        target_url="https://example.com/x",
    )  # fmt: skip
    assert (link.organization_id, link.owner_id) == (org.id, agent.id)
