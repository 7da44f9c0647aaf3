"""What every REST route shares: key auth, revocation, rate limit, body cap, error shape."""

import json

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orgportal.api import public_tickets
from orgportal.config import settings
from orgportal.models import ApiKey, Link, Organization
from orgportal.services import api_keys
from tests.api.conftest import bearer
from tests.factories import PASSWORD, make_org, make_user


def test_without_a_key_every_route_is_refused_with_401(client: TestClient, session: Session):
    org = make_org(session, make_user(session))
    for method, path in [
        ("GET", "/api/organizations"),
        ("POST", "/api/organizations"),
        ("GET", f"/api/organizations/{org.public_id}"),
        ("GET", f"/api/organizations/{org.public_id}/usage"),
        ("GET", f"/api/organizations/{org.public_id}/members"),
        ("GET", f"/api/organizations/{org.public_id}/invites"),
        ("GET", "/api/links"),
        ("POST", "/api/links"),
    ]:
        response = client.request(method, path, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
        assert set(response.json()) == {"detail"}


def test_a_wrong_scheme_or_an_unknown_key_is_401(client: TestClient, session: Session):
    headers = bearer(session, make_user(session))
    assert client.get("/api/links", headers=headers).status_code == 200
    basic = {"Authorization": headers["Authorization"].replace("Bearer", "Basic")}
    assert client.get("/api/links", headers=basic).status_code == 401
    unknown = {"Authorization": "Bearer op_" + "x" * 43}
    response = client.get("/api/links", headers=unknown)
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key is not valid."}


def test_a_revoked_key_stops_working_at_once(client: TestClient, session: Session):
    user = make_user(session)
    org = make_org(session, user)
    raw, key = api_keys.create_key(
        session, user=user, name="ci", active_org_id=org.id, password=PASSWORD
    )
    session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert (
        client.post(
            "/api/links", headers=headers, json={"target_url": "https://a.example"}
        ).status_code
        == 201
    )
    api_keys.revoke_key(session, user=user, key_id=key.id)
    session.commit()
    for method, path, body in [
        ("POST", "/api/links", {"target_url": "https://b.example"}),
        ("GET", f"/api/organizations/{org.public_id}", None),
        ("PUT", f"/api/organizations/{org.public_id}", {"name": "Taken over"}),
        ("DELETE", f"/api/organizations/{org.public_id}", None),
        ("GET", f"/api/organizations/{org.public_id}/usage", None),
        (
            "POST",
            f"/api/organizations/{org.public_id}/invites",
            {"email": "a@b.io", "role": "agent"},
        ),
        ("POST", f"/api/organizations/{org.public_id}/switch", None),
    ]:
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"detail": "This API key has been revoked."}
    assert session.exec(select(func.count()).select_from(Link)).one() == 1
    session.expire_all()
    assert session.get(Organization, org.id).name == "Acme Marketing Team"


def test_the_key_records_when_it_was_last_used(client: TestClient, session: Session):
    user = make_user(session)
    raw, key = api_keys.create_key(
        session, user=user, name="ci", active_org_id=None, password=PASSWORD
    )
    session.commit()
    assert key.last_used_at is None
    client.get("/api/links", headers={"Authorization": f"Bearer {raw}"})
    session.expire_all()
    assert session.get(ApiKey, key.id).last_used_at is not None


def test_each_key_is_rate_limited_on_its_own(client: TestClient, session: Session, monkeypatch):
    monkeypatch.setattr(settings, "api_rate_limit", 3)
    user = make_user(session)
    first, second = bearer(session, user), bearer(session, user)
    for _ in range(3):
        assert client.get("/api/links", headers=first).status_code == 200
    refused = client.get("/api/links", headers=first)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= int(settings.api_rate_window_seconds) + 1
    assert "Too many requests" in refused.json()["detail"]
    assert client.get("/api/links", headers=second).status_code == 200


def test_bodies_over_the_limit_are_refused_with_413(client: TestClient, session: Session):
    headers = {**bearer(session, make_user(session)), "Content-Type": "application/json"}
    big = json.dumps({"name": "x" * (settings.api_max_body_bytes + 1)})
    response = client.post("/api/organizations", headers=headers, content=big)
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 65,536 bytes."}

    def chunked():  # no Content-Length: the cap is enforced while reading
        yield b'{"name": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    assert client.post("/api/organizations", headers=headers, content=chunked()).status_code == 413
    small = client.post("/api/organizations", headers=headers, json={"name": "Small Co"})
    assert small.status_code == 201


def test_invalid_input_is_422_with_a_detail_and_per_field_errors(
    client: TestClient, session: Session
):
    headers = bearer(session, make_user(session))
    missing = client.post("/api/organizations", headers=headers, json={})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"name": "Field required"}
    assert missing.json()["detail"] == "name: Field required"

    wrong_type = client.post("/api/links", headers=headers, json={"target_url": 5})
    assert wrong_type.status_code == 422
    assert "target_url" in wrong_type.json()["errors"]

    broken = client.post(
        "/api/links",
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"target_url": ',
    )
    assert broken.status_code == 422
    assert isinstance(broken.json()["detail"], str)

    bad_path = client.get("/api/organizations/abc", headers=headers)
    assert bad_path.status_code == 422
    assert "path.organization_id" in bad_path.json()["errors"]
    huge = client.get(f"/api/organizations/{2**63}", headers=headers)
    assert huge.status_code == 422  # never reaches the database as an overflowing integer
    assert client.get("/api/links?limit=0", headers=headers).status_code == 422
    assert client.get("/api/links?limit=101", headers=headers).status_code == 422


def test_the_key_is_checked_before_the_body(client: TestClient):
    assert client.post("/api/organizations", json={"name": 5}).status_code == 401


def test_openapi_documents_every_rest_operation(client: TestClient):
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    rest = {
        (path, method): op
        for path, ops in spec["paths"].items()
        if path.startswith(("/api/organizations", "/api/links"))
        for method, op in ops.items()
    }
    # 18, + 4 for link approval and projects, + 2 analytics (SPEC §14), + 4 custom domains (SPEC §15)
    # + tickets and billing read (SPEC §17: the organization keys' Tickets and Billing scopes)
    assert len(rest) == 30
    for (path, method), op in rest.items():
        assert op["security"] == [{"ApiKey": []}], path
        success = next(code for code in op["responses"] if code.startswith("2"))
        schema = op["responses"][success]["content"]["application/json"]["schema"]
        assert "$ref" in schema.get("items", schema), (path, method)  # the list: an array
        for code in ("401", "404", "422", "429"):
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)
        if method in ("post", "put", "patch") and "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/")
    assert "HTTPValidationError" not in json.dumps(list(rest.values()))


def test_a_wrong_method_is_405_naming_every_method_the_path_accepts(client: TestClient):
    for method, path, allowed in [
        ("DELETE", "/api/organizations", "GET, POST"),  # two routes share the path
        ("PUT", "/api/organizations/1/usage", "GET"),
        ("GET", "/api/auth/logout", "POST"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == allowed, path
        assert response.json() == {"detail": "Method Not Allowed"}
    public = TestClient(public_tickets.public_api())
    response = public.patch("/api/public/organizations/acme/tickets")
    assert (response.status_code, response.headers["allow"]) == (405, "POST, OPTIONS")
