"""Public ids (SPEC §8): `org_…` and `user_…`, random, stable, resolved back to keys."""

import re

import pytest
from sqlmodel import Session

from orgportal.models import Organization
from orgportal.services import organizations, public_ids
from orgportal.services.errors import NotFound
from tests.factories import make_org, make_user


def test_every_new_organization_and_user_gets_a_random_public_id(session: Session):
    owner = make_user(session)
    first, second = make_org(session, owner, "First"), make_org(session, owner, "Second")
    assert re.fullmatch(public_ids.USER_PATTERN, owner.public_id)
    for org in (first, second):
        assert re.fullmatch(public_ids.ORGANIZATION_PATTERN, org.public_id)
    assert first.public_id != second.public_id
    assert not re.fullmatch(public_ids.ORGANIZATION_PATTERN, public_ids.PERSONAL)


def test_a_public_id_is_stable_and_resolves_to_its_key(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    before = org.public_id
    organizations.update_profile(
        session, user=owner, organization_id=org.id, name="Renamed", description="",
        logo_url="",
    )  # fmt: skip
    session.commit()
    session.expire_all()
    assert session.get(Organization, org.id).public_id == before
    assert public_ids.organization_pk(session, before) == org.id
    assert public_ids.workspace_pk(session, before) == org.id
    assert public_ids.workspace_pk(session, public_ids.PERSONAL) is None
    assert public_ids.user_pk(session, owner.public_id) == owner.id
    assert public_ids.organization_ids(session, [org.id, None]) == {
        org.id: before, None: public_ids.PERSONAL,
    }  # fmt: skip
    assert public_ids.user_ids(session, [owner.id]) == {owner.id: owner.public_id}


def test_unknown_public_ids_are_not_found(session: Session):
    with pytest.raises(NotFound, match="Organization not found"):
        public_ids.organization_pk(session, "org_000000000000")
    with pytest.raises(NotFound, match="Organization not found"):
        public_ids.organization_pk(session, public_ids.PERSONAL)
    with pytest.raises(NotFound, match="Member not found"):
        public_ids.user_pk(session, "user_000000000000", missing="Member not found.")
