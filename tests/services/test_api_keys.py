"""The API key service on its own: shown once, stored hashed, revocable, its workspace."""

import pytest
from sqlmodel import Session, select

from orgportal import security
from orgportal.models import ApiKey, Role
from orgportal.services import api_keys, members
from orgportal.services.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from tests.factories import PASSWORD, add_member, make_org, make_user


def test_a_key_is_random_shown_once_and_stored_only_as_a_hash(session: Session):
    user = make_user(session)
    raw, key = api_keys.create_key(
        session, user=user, name=" Deploy ", active_org_id=None, password=PASSWORD
    )
    other, _ = api_keys.create_key(
        session, user=user, name="Other", active_org_id=None, password=PASSWORD
    )
    session.commit()
    assert raw.startswith("op_") and len(raw) >= 40 and raw != other
    assert key.name == "Deploy" and key.prefix == raw[:11]
    stored = session.exec(select(ApiKey).where(ApiKey.id == key.id)).one()
    assert stored.key_hash == security.token_hash(raw)
    assert raw not in str(stored.model_dump())
    assert api_keys.authenticate(session, raw).user.id == user.id


def test_names_are_required(session: Session):
    with pytest.raises(ValidationFailed) as refused:
        api_keys.create_key(
            session, user=make_user(session), name="  ", active_org_id=None, password=PASSWORD
        )
    assert "name" in refused.value.errors


def test_list_and_revoke_are_per_user(session: Session):
    alice, bob = make_user(session), make_user(session)
    raw, key = api_keys.create_key(
        session, user=alice, name="a", active_org_id=None, password=PASSWORD
    )
    api_keys.create_key(session, user=bob, name="b", active_org_id=None, password=PASSWORD)
    session.commit()
    assert [k.name for k in api_keys.list_keys(session, user=alice)] == ["a"]
    with pytest.raises(NotFound):
        api_keys.revoke_key(session, user=bob, key_id=key.id)
    api_keys.revoke_key(session, user=alice, key_id=key.id)
    session.commit()
    assert api_keys.list_keys(session, user=alice) == []
    with pytest.raises(NotAuthenticated, match="revoked"):
        api_keys.authenticate(session, raw)
    with pytest.raises(NotFound):
        api_keys.revoke_key(session, user=alice, key_id=key.id)


def test_a_user_has_a_bounded_number_of_keys(session: Session, monkeypatch):
    monkeypatch.setattr(api_keys, "MAX_ACTIVE_KEYS", 2)
    user = make_user(session)
    for name in ("one", "two"):
        api_keys.create_key(session, user=user, name=name, active_org_id=None, password=PASSWORD)
    with pytest.raises(Conflict):
        api_keys.create_key(session, user=user, name="three", active_org_id=None, password=PASSWORD)


def test_the_key_starts_in_the_given_workspace_only_for_members(session: Session):
    owner, stranger = make_user(session), make_user(session)
    org = make_org(session, owner)
    _, owners = api_keys.create_key(
        session, user=owner, name="o", active_org_id=org.id, password=PASSWORD
    )
    _, strangers = api_keys.create_key(
        session, user=stranger, name="s", active_org_id=org.id, password=PASSWORD
    )
    assert (owners.active_org_id, strangers.active_org_id) == (org.id, None)


def test_a_removed_members_key_falls_back_to_personal(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    raw, key = api_keys.create_key(
        session, user=agent, name="a", active_org_id=org.id, password=PASSWORD
    )
    session.commit()
    assert api_keys.active_workspace(session, api_keys.authenticate(session, raw)) == org.id
    members.remove_member(session, user=owner, organization_id=org.id, member_id=agent.id)
    session.commit()
    assert api_keys.active_workspace(session, api_keys.authenticate(session, raw)) is None
    session.commit()
    assert session.get(ApiKey, key.id).active_org_id is None
