"""My Files and links by id: another organization's id reads exactly like a missing one."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orgportal import db, routes
from orgportal.api import build_api
from orgportal.config import settings
from orgportal.models import Role
from orgportal.services import files, links
from orgportal.services.errors import DomainError, NotFound
from tests.factories import add_member, make_org, make_user, open_session

MISSING = 999_999


def refusal(service: Callable[..., object], session: Session, **kwargs) -> tuple[type, str]:
    with pytest.raises(DomainError) as caught:
        service(session, **kwargs)
    return type(caught.value), caught.value.message


@pytest.fixture
def two_orgs(session: Session, tmp_path):
    """Alice's organization A holds a file and a link; Bob belongs to organization B only."""
    alice, bob = make_user(session), make_user(session)
    org_a, org_b = make_org(session, alice, "Org A"), make_org(session, bob, "Org B")
    stored = files.upload_file(
        session,
        user=alice,
        organization_id=org_a.id,
        name="plan.txt",
        data=b"secret plan",
    )
    link = links.create_link(
        session, user=alice, organization_id=org_a.id, target_url="https://example.com"
    )
    session.commit()
    return bob, org_a, org_b, stored, link


def test_another_organizations_file_id_looks_missing(session: Session, two_orgs, tmp_path):
    """SECURITY: "Organization not found" for an existing id told outsiders it exists."""
    bob, org_a, org_b, stored, _ = two_orgs
    for file_id in (stored.id, MISSING):
        assert refusal(files.get_file, session, user=bob, file_id=file_id) == (
            NotFound,
            "File not found.",
        )
    for workspace in (org_a.id, org_b.id, None):
        outcomes = {
            refusal(
                files.delete_file,
                session,
                user=bob,
                organization_id=workspace,
                file_id=file_id,
            )
            for file_id in (stored.id, MISSING)
        }
        assert len(outcomes) == 1, outcomes


def test_another_organizations_link_id_looks_missing(session: Session, two_orgs):
    bob, org_a, org_b, _, link = two_orgs
    for workspace in (org_a.id, org_b.id, None):
        outcomes = {
            refusal(
                links.delete_link, session, user=bob, organization_id=workspace, link_id=link_id
            )
            for link_id in (link.id, MISSING)
        }
        assert len(outcomes) == 1, outcomes


def test_download_of_another_organizations_file_is_a_plain_404(
    session: Session, engine, monkeypatch, tmp_path
):
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    alice, bob = make_user(session), make_user(session)
    org_a = make_org(session, alice, "Org A")
    make_org(session, bob, "Org B")
    stored = files.upload_file(
        session,
        user=alice,
        organization_id=org_a.id,
        name="plan.txt",
        data=b"secret plan",
    )
    raw, _ = open_session(session, bob)
    alice_raw, _ = open_session(session, alice)
    session.commit()
    client = TestClient(build_api())

    def download(file_id: int, token: str = raw):
        client.cookies.set(routes.SESSION_COOKIE, token)
        return client.get(f"/api/files/{file_id}")

    assert download(stored.id, alice_raw).content == b"secret plan"
    theirs, missing = download(stored.id), download(MISSING)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() == {"detail": "File not found."}


def test_my_files_names_who_uploaded_each_file(session: Session, tmp_path):
    owner = make_user(session)
    org = make_org(session, owner, "Shared Files Co")
    agent = add_member(session, org, Role.AGENT)
    for user, name in ((owner, "owner.txt"), (agent, "agent.txt")):
        files.upload_file(
            session, user=user, organization_id=org.id, name=name, data=b"x",
        )  # fmt: skip
    listed, total = files.list_files_with_uploaders(session, user=agent, organization_id=org.id)
    assert total == 2
    assert [(f.name, by) for f, by in listed] == [
        ("agent.txt", agent.display_name),
        ("owner.txt", owner.display_name),
    ]
    assert files.list_files_with_uploaders(session, user=owner, organization_id=None) == ([], 0)
