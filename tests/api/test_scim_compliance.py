"""scim2-tester, the independent RFC 7643/7644 compliance checker, against the SCIM service
(SPEC §16) served by uvicorn: discovery, Users and Groups created, read, listed with
`attributes`, replaced, patched (add, remove, replace on every attribute) and deleted."""

from collections import Counter
from collections.abc import Iterator

import pytest
from scim2_tester import Status, check_server
from sqlmodel import Session

from tests.api.scim_server import Provider, provider_of, subscribe

FAILED = (Status.ERROR, Status.CRITICAL)


@pytest.fixture
def provider(session: Session, engine, monkeypatch) -> Iterator[Provider]:
    with provider_of(session, engine, monkeypatch) as running:
        yield running


def test_scim2_tester_finds_no_failure(session: Session, provider: Provider):
    # department groups (every group beyond the roles) need the Support Subscription
    subscribe(session, provider.org, kind="support", quantity=100)
    results = check_server(provider.client())

    failures = [(r.resource_type, r.title, r.reason) for r in results if r.status in FAILED]
    assert failures == []
    statuses = Counter(r.status for r in results)
    # it ran everything: discovery, both resource types, every CRUD and PATCH check
    assert statuses[Status.SUCCESS] >= 60, statuses
    assert {r.resource_type for r in results if r.status == Status.SUCCESS} >= {"User", "Group"}
    checked = {r.title for r in results if r.status == Status.SUCCESS}
    assert {
        "object_creation", "object_query", "object_replacement", "object_deletion",
        "check_add_attribute", "check_remove_attribute", "check_replace_attribute",
        "random_url", "query_all_schemas", "query_all_resource_types",
    } <= checked  # fmt: skip
