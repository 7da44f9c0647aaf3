"""Every request/response example of seed 003 (the organizations REST API document SPEC §8
was derived from), replayed against the API as written.

The examples are transcribed below exactly as the seed prints them: method, path, headers
(curl's `-d` without a Content-Type sends `application/x-www-form-urlencoded`), body and
response. The seed's ids (`org_abc123`, `user_456`, `org_def456`) stand for real objects of
the scenario it describes: John Doe, Admin of "Acme Marketing Team" (on the Professional
plan, the seed's "Pro": 10,000 links, 25 members, 5 domains) and Member of "Client: Nike"
(our Agent). A response must have every key of the seed's, each of the same JSON type;
ids and timestamps match by pattern, names and roles by value. Where the product differs on
purpose (tier names, roles), the translation is named here and in the README's API section.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal.models import Organization, Role, Subscription, User
from orgportal.services import accounts, organizations, public_ids
from tests.api.conftest import bearer
from tests.factories import PASSWORD, add_member

JSON = {"Content-Type": "application/json"}
CURL_D = {"Content-Type": "application/x-www-form-urlencoded"}  # curl -d without -H
# The seed's names for what the product calls otherwise (README, "REST API").
TIER = {"pro": "professional"}
ROLE = {"member": Role.AGENT.value}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


@dataclass
class Example:
    """One example of the seed: the request as printed, and the response if it shows one."""

    name: str
    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    response: str | None = None
    status: int = 200
    caller: str = "john"
    # keys (or dotted paths) whose values must equal the seed's (after TIER and ROLE)
    same: tuple[str, ...] = ()


EXAMPLES = [
    Example(
        "create (Via API)",
        "POST",
        "/api/organizations",
        body="""{
"name": "Acme Marketing Team"
}""",
        headers=JSON,
        status=201,
        response="""{
"id": "org_abc123",
"name": "Acme Marketing Team",
"slug": "acme-marketing-team-x7y9z2",
"owner_id": "user_456",
"subscription_tier": "free",
"created_at": "2024-03-15T10:30:00Z"
}""",
        same=("name", "subscription_tier"),
    ),
    Example(
        "list (Viewing All Organizations)",
        "GET",
        "/api/organizations",
        response="""[
{
"id": "org_personal",
"name": "Personal Workspace",
"role": "owner",
"member_count": 1,
"joined_at": "2024-01-15T10:00:00Z"
},
{
"id": "org_abc123",
"name": "Acme Marketing Team",
"role": "admin",
"member_count": 12,
"joined_at": "2024-02-20T14:30:00Z"
},
{
"id": "org_def456",
"name": "Client: Nike",
"role": "member",
"member_count": 5,
"joined_at": "2024-03-10T09:15:00Z"
}
]""",
        same=("id", "name", "role"),
    ),
    Example(
        "switch (Switching Between Organizations)",
        "POST",
        "/api/organizations/org_abc123/switch",
        response="""{
"token": "new_jwt_token_with_org_context",
"user": {
"id": "user_456",
"email": "john@example.com",
"name": "John Doe"
},
"organization": {
"id": "org_abc123",
"name": "Acme Marketing Team",
"role": "admin"
}
}""",
        same=("id", "email", "name", "role"),
    ),
    Example(
        "details (Organization Details)",
        "GET",
        "/api/organizations/org_abc123",
        response="""{
"id": "org_abc123",
"name": "Acme Marketing Team",
"slug": "acme-marketing-team-x7y9z2",
"owner_id": "user_456",
"subscription_tier": "pro",
"subscription_status": "active",
"member_count": 12,
"link_count": 1248,
"project_count": 8,
"created_at": "2024-01-15T10:00:00Z",
"updated_at": "2024-03-10T14:22:00Z"
}""",
        same=("id", "name", "subscription_tier", "subscription_status"),
    ),
    Example(
        "usage (Checking Usage)",
        "GET",
        "/api/organizations/org_abc123/usage",
        response="""{
"usage": {
"links": 1248,
"members": 12,
"domains": 2
},
"limits": {
"links": 10000,
"members": 25,
"domains": 5
},
"tier": "pro"
}""",
        # the Professional plan's limits are the seed's Pro's
        same=("limits.links", "limits.members", "limits.domains", "tier"),
    ),
    Example(
        "rename (Rename Organization)",
        "PUT",
        "/api/organizations/org_abc123",
        body="""{
"name": "Acme Marketing & Growth Team"
}""",
        headers=JSON,
        response='{"name": "Acme Marketing & Growth Team"}',  # not printed: what it asked
        same=("name",),
    ),
    Example(
        "settings (Update Settings)",
        "PUT",
        "/api/organizations/org_abc123",
        body="""{
"settings": {
"defaultAttributionWindow": 168,
"requireApprovalForLinks": false,
"allowMembersToInvite": true
}
}""",
        headers=JSON,
        # not printed: the settings it asked for, as GET answers them
        response="""{"settings": {"default_attribution_window": 168,
"require_approval_for_links": false, "allow_members_to_invite": true}}""",
        same=(
            "default_attribution_window",
            "require_approval_for_links",
            "allow_members_to_invite",
        ),
    ),  # fmt: skip
    Example(
        "delete (Deleting an Organization, Via API)",
        "DELETE",
        "/api/organizations/org_abc123",
        response="""{
"message": "Organization deleted successfully"
}""",
        caller="sarah",  # "Requires: Owner role"
        same=("message",),
    ),
    Example(
        "purpose (Document Organization Purpose)",
        "PUT",
        "/api/organizations/org_abc123",
        body="""{
"name": "Acme Marketing Team",
"settings": {
"description": "Main marketing team workspace for all campaigns",
"purpose": "production",
"owner": "marketing-team@acme.com"
}
}""",
        headers=JSON,
        # not printed: what it asked for, as GET answers it
        response="""{"name": "Acme Marketing Team",
"description": "Main marketing team workspace for all campaigns",
"settings": {"purpose": "production", "owner": "marketing-team@acme.com"}}""",
        same=("name", "description", "purpose", "owner"),
    ),
    Example(
        "agency client 1 (Common Workflows)",
        "POST",
        "/api/organizations",
        body='{"name": "Client: Nike"}',
        headers=CURL_D,
        status=201,
        response='{"name": "Client: Nike", "id": "org_abc123", "owner_id": "user_456"}',
        same=("name",),
    ),
    Example(
        "agency client 2 (Common Workflows)",
        "POST",
        "/api/organizations",
        body='{"name": "Client: Adidas"}',
        headers=CURL_D,
        status=201,
        response='{"name": "Client: Adidas", "id": "org_abc123", "owner_id": "user_456"}',
        same=("name",),
    ),
]


@dataclass
class Scenario:
    """The seed's world: John Doe, Admin of Acme (Professional plan, owned by Sarah) and
    Member (Agent) of Client: Nike; API keys of John (in his Personal Workspace) and Sarah."""

    john: User
    acme: Organization
    nike: Organization
    keys: dict[str, dict[str, str]]

    def real(self, text: str) -> str:
        """The seed's ids replaced by the scenario's."""
        for seed_id, real_id in (
            ("org_abc123", self.acme.public_id),
            ("org_def456", self.nike.public_id),
            ("user_456", self.john.public_id),
        ):
            text = text.replace(seed_id, real_id)
        return text


def register(session: Session, email: str, first: str, last: str) -> User:
    user = accounts.register(
        session, accounts.Registration(email, PASSWORD, first, last), confirmed=True
    )
    session.commit()
    return user


@pytest.fixture
def scenario(session: Session) -> Scenario:
    john = register(session, "john@example.com", "John", "Doe")
    sarah = register(session, "sarah@acme.com", "Sarah", "Owner")
    mike = register(session, "mike@nike.example", "Mike", "Owner")
    acme = organizations.create_organization(session, user=sarah, name="Acme Marketing Team")
    nike = organizations.create_organization(session, user=mike, name="Client: Nike")
    session.add(
        Subscription(organization_id=acme.id, kind="plan", plan_key="professional",
                     status="active", stripe_subscription_id="sub_seed_003", interval="monthly")
    )  # fmt: skip
    session.commit()
    add_member(session, acme, Role.ADMIN, john)
    add_member(session, nike, Role.AGENT, john)
    keys = {"john": bearer(session, john), "sarah": bearer(session, sarah, acme.id)}
    return Scenario(john=john, acme=acme, nike=nike, keys=keys)


def seed_value(key: str, value: Any) -> Any:
    if key in ("subscription_tier", "tier") and isinstance(value, str):
        return TIER.get(value, value)
    if key == "role" and isinstance(value, str):
        return ROLE.get(value, value)
    return value


def assert_like(expected: Any, actual: Any, where: str, same: tuple[str, ...], key: str = ""):
    """`actual` has `expected`'s shape: every key, the same JSON types; ids and timestamps
    by pattern; the values of `same` keys equal."""
    if key in same or where.removeprefix("response.") in same:
        assert actual == seed_value(key, expected), f"{where}: {actual!r} != {expected!r}"
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: not an object: {actual!r}"
        for name, value in expected.items():
            assert name in actual, f"{where}: no `{name}` in {sorted(actual)}"
            assert_like(value, actual[name], f"{where}.{name}", same, name)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: not an array: {actual!r}"
        assert len(actual) == len(expected), f"{where}: {len(actual)} items"
        for index, (value, got) in enumerate(zip(expected, actual, strict=True)):
            assert_like(value, got, f"{where}[{index}]", same, key)
    elif isinstance(expected, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r} is not a boolean"
    elif isinstance(expected, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), f"{where}: {actual!r}"
    elif isinstance(expected, str):
        assert isinstance(actual, str), f"{where}: {actual!r} is not a string"
        if expected == public_ids.PERSONAL:
            assert actual == expected, where
        elif expected.startswith("org_"):
            assert re.fullmatch(public_ids.ORGANIZATION_PATTERN, actual), f"{where}: {actual}"
        elif expected.startswith("user_"):
            assert re.fullmatch(public_ids.USER_PATTERN, actual), f"{where}: {actual}"
        elif TIMESTAMP.match(expected):
            assert datetime.fromisoformat(actual).tzinfo is not None, f"{where}: {actual}"
        elif key == "slug":  # readable base plus a random suffix, as the seed's note says
            assert re.fullmatch(r"[a-z0-9-]+-[a-z0-9]{6}", actual), f"{where}: {actual}"


def replay(client: TestClient, scenario: Scenario, example: Example):
    return client.request(
        example.method,
        scenario.real(example.path),
        headers={**scenario.keys[example.caller], **example.headers},
        content=example.body.encode() if example.body is not None else None,
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_the_seeds_example_works_as_written(
    client: TestClient, scenario: Scenario, example: Example
):
    answer = replay(client, scenario, example)
    assert answer.status_code == example.status, answer.text
    assert answer.headers["content-type"] == "application/json"
    if example.response is not None:
        expected = json.loads(scenario.real(example.response))
        assert_like(expected, answer.json(), "response", example.same)


def test_the_switch_examples_token_is_a_bearer_carrying_the_organization(
    client: TestClient, scenario: Scenario, session: Session
):
    """ "Save the new token - it includes your organization context": it works as
    `Authorization: Bearer`, in Acme, while John's key stays in his Personal Workspace."""
    switch = next(e for e in EXAMPLES if e.name.startswith("switch"))
    token = replay(client, scenario, switch).json()["token"]
    as_token = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/organizations", headers=as_token).json()
    assert [w["id"] for w in listed if w["active"]] == [scenario.acme.public_id]
    link = client.post("/api/links", headers=as_token, json={"target_url": "https://acme.io"})
    assert link.status_code == 201 and link.json()["organization_id"] == scenario.acme.public_id
    by_key = client.get("/api/organizations", headers=scenario.keys["john"]).json()
    assert [w["id"] for w in by_key if w["active"]] == [public_ids.PERSONAL]


def test_the_created_organizations_belong_to_the_caller(
    client: TestClient, scenario: Scenario, session: Session
):
    for example in (e for e in EXAMPLES if e.method == "POST" and e.path == "/api/organizations"):
        body = replay(client, scenario, example).json()
        assert body["owner_id"] == scenario.john.public_id
        created = session.exec(
            select(Organization).where(Organization.public_id == body["id"])
        ).one()
        assert created.name == body["name"]


def test_the_settings_example_changes_the_settings(
    client: TestClient, scenario: Scenario, session: Session
):
    client.put(
        f"/api/organizations/{scenario.acme.public_id}",
        headers=scenario.keys["john"],
        json={"settings": {"requireApprovalForLinks": True, "defaultAttributionWindow": 24}},
    )
    settings = next(e for e in EXAMPLES if e.name.startswith("settings"))
    assert replay(client, scenario, settings).status_code == 200
    session.expire_all()
    acme = session.get(Organization, scenario.acme.id)
    assert (
        acme.default_attribution_window, acme.require_approval_for_links,
        acme.allow_members_to_invite,
    ) == (168, False, True)  # fmt: skip


def test_camel_and_snake_case_names_of_one_setting_together_are_refused(
    client: TestClient, scenario: Scenario, session: Session
):
    both = client.put(
        f"/api/organizations/{scenario.acme.public_id}",
        headers=scenario.keys["john"],
        json={"settings": {"allowMembersToInvite": True, "allow_members_to_invite": True}},
    )
    assert both.status_code == 422
    assert "send one of them" in both.json()["errors"]["settings"]
    session.expire_all()
    assert not session.get(Organization, scenario.acme.id).allow_members_to_invite


def test_a_form_that_is_not_json_is_still_refused(client: TestClient, scenario: Scenario):
    """Only JSON sent with curl's default Content-Type is read as JSON; a real form is a 422."""
    form = client.post(
        "/api/organizations", headers={**scenario.keys["john"], **CURL_D}, content=b"name=Nike"
    )
    assert form.status_code == 422
