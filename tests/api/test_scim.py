"""SCIM provisioning over HTTP (SPEC §16) with scim2-client, as an identity provider does it:
provisioning (existing account or just in time), filters and paging, deprovisioning (the
member's sessions and API keys end at once, their links stay with the organization), role
groups, the seat limit, the plan gate and the token, every refusal a SCIM error."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scim2_models import (
    Error,
    ListResponse,
    PatchOp,
    PatchOperation,
    SearchRequest,
    UniquenessException,
)
from sqlmodel import Session, select

from orgportal import security
from orgportal.api import build_api
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.models import ApiKey, Link, Membership, Role, User, UserSession
from orgportal.services import api_keys, links, scim_tokens
from orgportal.services.scim import NO_PASSWORD
from tests.api.scim_server import Provider, provider_of, subscribe
from tests.api.test_gateway import EVIL, reflex_wrapped
from tests.factories import PASSWORD, add_member, audit_actions, make_org, make_user, open_session

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def provider(session: Session, engine, monkeypatch) -> Iterator[Provider]:
    with provider_of(session, engine, monkeypatch) as running:
        yield running


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch) -> None:
    monkeypatch.setattr(
        security, "argon2", security.argon2.using(rounds=1, memory_cost=64, parallelism=1)
    )


def user_payload(email: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def create(client, email: str, **extra: Any):
    model = client.get_resource_model("User")
    return client.create(model.model_validate(user_payload(email, **extra)))


def patch_active(client, user, active: bool):
    model = type(user)
    return client.modify(
        model,
        user.id,
        PatchOp[model](
            operations=[PatchOperation(op=PatchOperation.Op.replace_, value={"active": active})]
        ),
    )


def membership(session: Session, provider: Provider, user_id: int) -> Membership | None:
    session.expire_all()
    return session.exec(
        select(Membership).where(
            Membership.organization_id == provider.org.id, Membership.user_id == user_id
        )
    ).first()


def test_provisioning_creates_a_confirmed_account_without_password(session, provider):
    client = provider.client()
    created = create(client, "grace@acme.example")

    assert created.user_name == "grace@acme.example" and created.active is True
    assert created.meta.location.endswith(f"/scim/v2/Users/{created.id}")
    account = session.exec(select(User).where(User.email == "grace@acme.example")).one()
    assert (account.first_name, account.last_name) == ("Grace", "Hopper")
    assert account.email_confirmed_at is not None  # the identity provider vouches
    assert account.password_hash == NO_PASSWORD  # Forgot password or SSO later
    assert not security.verify_password("", account.password_hash)
    assert membership(session, provider, account.id).role == Role.VIEWER
    assert [g.value for g in created.groups] == ["viewer"]
    assert audit_actions(session, provider.org.id)[-1] == "member.joined"
    assert client.query(type(created), created.id).user_name == "grace@acme.example"


def test_an_existing_account_becomes_a_member_and_keeps_its_password(session, provider):
    existing = make_user(session, "linus@acme.example")
    created = create(provider.client(), "Linus@Acme.example", name={"givenName": "L"})

    session.refresh(existing)
    assert membership(session, provider, existing.id) is not None
    assert security.verify_password(PASSWORD, existing.password_hash)
    assert existing.first_name == "Test"  # an account it did not create keeps its name
    assert created.user_name == "Linus@Acme.example"


def test_filter_by_user_name_and_paging(session, provider):
    client = provider.client()
    model = client.get_resource_model("User")
    for n in range(5):
        create(client, f"person{n}@acme.example")

    found = client.query(
        model, query_parameters=SearchRequest(filter='userName eq "PERSON3@acme.example"')
    )
    assert isinstance(found, ListResponse)
    assert found.total_results == 1 and found.resources[0].user_name == "person3@acme.example"
    none = client.query(model, query_parameters=SearchRequest(filter='userName eq "nobody@x.io"'))
    assert none.total_results == 0 and not none.resources

    page = client.query(model, query_parameters=SearchRequest(start_index=2, count=2))
    assert (page.total_results, page.start_index, page.items_per_page) == (5, 2, 2)
    assert [u.user_name for u in page.resources] == ["person1@acme.example", "person2@acme.example"]
    counted = client.query(model, query_parameters=SearchRequest(count=0))
    assert counted.total_results == 5 and not counted.resources


def test_unsupported_filter_is_a_scim_invalid_filter_error(provider):
    response = provider.http().get("/Users", params={"filter": 'title co "x"'})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [SCIM_ERROR]
    assert (body["status"], body["scimType"]) == ("400", "invalidFilter")
    assert 'userName eq "…"' in body["detail"]


def test_deprovisioning_ends_sessions_and_keys_and_keeps_links(session, provider):
    # a member already (an Agent, who makes links): provisioning takes them over as they are
    person = add_member(
        session, provider.org, Role.AGENT, make_user(session, "leaver@acme.example")
    )
    client = provider.client()
    created = create(client, "leaver@acme.example")
    assert [g.value for g in created.groups] == ["agent"]
    link = links.create_link(
        session, user=person, organization_id=provider.org.id, target_url="https://acme.example/a"
    )
    _, browser = open_session(session, person, provider.org.id)
    raw_key, key = api_keys.create_key(
        session, user=person, name="script", active_org_id=provider.org.id, password=PASSWORD
    )
    session.commit()
    assert provider.http(raw_key).get("/Users").status_code == 401  # a user key is no SCIM token

    updated = patch_active(client, created, False)

    assert updated.active is False
    assert membership(session, provider, person.id) is None
    assert session.get(UserSession, browser.id).revoked_at is not None
    assert session.get(ApiKey, key.id).revoked_at is not None
    kept = session.get(Link, link.id)
    assert kept is not None and kept.organization_id == provider.org.id
    assert audit_actions(session, provider.org.id)[-1] == "member.removed"
    assert client.query(type(created), created.id).active is False  # the resource stays

    back = patch_active(client, created, True)
    # back with the role it had
    assert back.active is True and membership(session, provider, person.id).role == Role.AGENT


def test_delete_removes_the_member_and_the_resource(session, provider):
    client = provider.client()
    created = create(client, "gone@acme.example")
    account = session.exec(select(User).where(User.email == "gone@acme.example")).one()

    client.delete(type(created), created.id)

    assert membership(session, provider, account.id) is None
    missing = client.query(type(created), created.id, raise_scim_errors=False)
    assert isinstance(missing, Error) and missing.status == 404


def test_role_groups_change_roles_and_owner_is_no_group(session, provider):
    client = provider.client()
    created = create(client, "ada@acme.example")
    group_model = client.get_resource_model("Group")
    groups = client.query(group_model)
    assert [g.id for g in groups.resources[:4]] == ["admin", "billing_admin", "agent", "viewer"]

    client.modify(
        group_model,
        "admin",
        PatchOp[group_model](
            operations=[
                PatchOperation(
                    op=PatchOperation.Op.add, path="members", value=[{"value": created.id}]
                )
            ]
        ),
    )

    account = session.exec(select(User).where(User.email == "ada@acme.example")).one()
    assert membership(session, provider, account.id).role == Role.ADMIN
    assert [g.value for g in client.query(type(created), created.id).groups] == ["admin"]
    owner_group = client.query(group_model, "owner", raise_scim_errors=False)
    assert isinstance(owner_group, Error) and owner_group.status == 404
    renamed = provider.http().put(
        "/Groups/admin",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Boss"},
    )
    assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"


def test_the_owner_cannot_be_deprovisioned(session, provider):
    client = provider.client()
    created = create(client, provider.owner.email)

    refused = client.modify(
        type(created), created.id,
        PatchOp[type(created)](operations=[
            PatchOperation(op=PatchOperation.Op.replace_, value={"active": False})
        ]),
        raise_scim_errors=False,
    )  # fmt: skip

    assert isinstance(refused, Error) and refused.status == 403
    assert "owns this organization" in refused.detail
    assert membership(session, provider, provider.owner.id).role == Role.OWNER


def test_provisioning_beyond_the_seat_limit_is_refused(session, provider):
    subscribe(session, provider.org, kind="support", quantity=2)  # the owner and one more
    client = provider.client()
    create(client, "first@acme.example")

    refused = client.create(
        client.get_resource_model("User").model_validate(user_payload("second@acme.example")),
        raise_scim_errors=False,
    )

    assert isinstance(refused, Error) and refused.status == 409
    assert refused.detail.startswith("No seats available") and "2 support seats" in refused.detail
    assert session.exec(select(User).where(User.email == "second@acme.example")).first() is None


def test_duplicate_user_name_is_a_uniqueness_error(provider):
    client = provider.client()
    create(client, "dup@acme.example")

    with pytest.raises(UniquenessException):
        create(client, "DUP@acme.example")
    response = provider.http().post("/Users", json=user_payload("dup@acme.example"))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_missing_email_is_an_invalid_value_and_creates_nothing(session, provider):
    payload = user_payload("noemail")
    del payload["emails"]
    response = provider.http().post("/Users", json=payload)

    assert response.status_code == 400
    assert response.json()["schemas"] == [SCIM_ERROR]
    assert response.json()["scimType"] in ("invalidValue", "invalidSyntax")


def test_without_the_unlimited_plan_scim_answers_403(session, provider):
    subscribe(session, provider.org, plan_key="professional")  # the newer subscription wins

    response = provider.http().get("/Users")

    assert response.status_code == 403
    body = response.json()
    assert body["schemas"] == [SCIM_ERROR] and "Unlimited plan" in body["detail"]


def test_revoked_or_missing_token_is_401_and_tokens_do_not_cross_organizations(session, provider):
    assert provider.http("scim_not-a-token").get("/Users").status_code == 401
    response = provider.http().get("/Users", headers={"Authorization": ""})
    assert response.status_code == 401 and response.json()["schemas"] == [SCIM_ERROR]
    assert response.headers["www-authenticate"].startswith("Bearer")

    create(provider.client(), "mine@acme.example")
    other_owner = make_user(session, "owner@other.example")
    other = make_org(session, other_owner, "Other")
    subscribe(session, other)
    other_token = scim_tokens.generate_token(session, user=other_owner, organization_id=other.id)
    session.commit()
    assert provider.http(other_token).get("/Users").json()["totalResults"] == 0

    scim_tokens.revoke_token(session, user=provider.owner, organization_id=provider.org.id)
    session.commit()
    assert provider.http().get("/Users").status_code == 401


def test_unknown_paths_and_methods_are_scim_errors(provider):
    http = provider.http()
    missing = http.get("/Nothing")
    assert missing.status_code == 404 and missing.json()["schemas"] == [SCIM_ERROR]
    wrong = http.delete("/ServiceProviderConfig")
    assert wrong.status_code == 405 and wrong.json()["status"] == "405"


def test_entra_id_style_patches_work(session, provider):
    """Microsoft Entra ID sends `"Replace"`, a `path`, and booleans as strings; group members
    are removed with a value filter."""
    http = provider.http()
    created = http.post("/Users", json=user_payload("entra@acme.example")).json()
    op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

    off = http.patch(
        f"/Users/{created['id']}",
        json={
            "schemas": [op],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert off.status_code == 200 and off.json()["active"] is False
    account = session.exec(select(User).where(User.email == "entra@acme.example")).one()
    assert membership(session, provider, account.id) is None
    http.patch(
        f"/Users/{created['id']}",
        json={
            "schemas": [op],
            "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
        },
    )
    add = {"op": "Add", "path": "members", "value": [{"value": created["id"]}]}
    assert (
        http.patch("/Groups/agent", json={"schemas": [op], "Operations": [add]}).status_code == 200
    )
    assert membership(session, provider, account.id).role == Role.AGENT

    remove = {"op": "Remove", "path": f'members[value eq "{created["id"]}"]'}
    left = http.patch("/Groups/agent", json={"schemas": [op], "Operations": [remove]})
    assert left.status_code == 200 and "members" not in left.json()
    assert membership(session, provider, account.id).role == Role.VIEWER


def test_the_rate_limit_answers_429_with_retry_after(provider, monkeypatch):
    monkeypatch.setattr(settings, "api_rate_limit", 3)
    http = provider.http()
    assert [http.get("/Users").status_code for _ in range(3)] == [200, 200, 200]

    refused = http.get("/Users")

    assert refused.status_code == 429 and refused.json()["schemas"] == [SCIM_ERROR]
    assert int(refused.headers["retry-after"]) >= 1


def test_the_gateway_serves_scim_without_cookies_or_cors(provider):
    """Through the front door as the app runs it: no browser nonce cookie on SCIM answers,
    no CORS for browsers, and an Origin header is no reason to refuse a provider's server."""
    client = TestClient(Gateway(reflex_wrapped(build_api())))
    response = client.get(
        "/scim/v2/Users",
        headers={"Authorization": f"Bearer {provider.token}", "Origin": EVIL},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/scim+json")
    assert "set-cookie" not in response.headers
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_groups_filter_by_display_name_and_leave_out_members(session, provider):
    """Entra ID looks a group up by name, without its members."""
    http = provider.http()
    user = http.post("/Users", json=user_payload("pat@acme.example")).json()
    http.put(
        "/Groups/billing_admin",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Billing Admin",
            "members": [{"value": user["id"]}],
        },
    )

    found = http.get(
        "/Groups",
        params={"filter": 'displayName eq "billing admin"', "excludedAttributes": "members"},
    ).json()

    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == "billing_admin"
    assert "members" not in found["Resources"][0]
    full = http.get("/Groups/billing_admin").json()
    assert [m["value"] for m in full["members"]] == [user["id"]]
    account = session.exec(select(User).where(User.email == "pat@acme.example")).one()
    assert membership(session, provider, account.id).role == Role.BILLING_ADMIN


def test_malformed_requests_are_scim_errors_and_change_nothing(session, provider):
    http = provider.http()
    created = http.post("/Users", json=user_payload("steady@acme.example")).json()

    not_json = http.post(
        "/Users", content=b"{not json", headers={"Content-Type": "application/scim+json"}
    )
    bad_op = http.patch(
        f"/Users/{created['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "move", "path": "active", "value": False}],
        },
    )
    read_only = http.patch(
        f"/Users/{created['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "groups", "value": [{"value": "admin"}]}],
        },
    )

    assert not_json.status_code == 400 and not_json.json()["scimType"] == "invalidSyntax"
    for refused in (bad_op, read_only):
        assert refused.status_code == 400, refused.text
        assert refused.json()["schemas"] == [SCIM_ERROR]
    account = session.exec(select(User).where(User.email == "steady@acme.example")).one()
    assert membership(session, provider, account.id).role == Role.VIEWER
