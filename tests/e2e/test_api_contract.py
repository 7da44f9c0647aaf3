"""Property-based contract test: schemathesis against `/api/openapi.json` of the running app.

A user registers in the browser and makes a key on /account; schemathesis then generates
requests for every REST operation (valid and invalid input) with that key and runs every
check it has, the stateful phase included (create → read → change → delete chains): no
5xx, every status, content type, header and body as documented, every request the document
calls valid accepted and every one it calls invalid refused, 405 with Allow for methods a
path does not take, and created resources readable.

The app's per-key API limit is raised for the browser tests (conftest.py), so the rules get
exercised rather than the limiter (a 429 is documented and would pass, but test nothing).

Left out: the Stripe webhook (Stripe-signed; without the secret every call is a 400) and
the public ticket intake (Origin-checked CORS, served ahead of the Reflex app). Both have
their own HTTP tests.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
from playwright.sync_api import Page

from tests.e2e.helpers import (
    confirm_email,
    create_organization,
    join_as_new_user,
    register,
    unique_email,
)
from tests.e2e.test_api_keys import create_key_in_ui

EXCLUDED = r"^/api/(stripe|public)/"
MAX_EXAMPLES = 20


def seed(base_url: str, key: str, member_email: str) -> dict[str, int | str]:
    """Real ids for the path parameters, so operations reach their logic and not only 404;
    DELETEs get throwaway ones, so the rest keep theirs. A role change gets a member whose
    role may change (`member_email`, an Agent who joined), not the Owner's, which never may."""
    api = httpx.Client(base_url=f"{base_url}/api", headers={"Authorization": f"Bearer {key}"})
    workspaces = api.get("/organizations").json()
    org = next(w for w in workspaces if w["active"])
    doomed = api.post("/organizations", json={"name": "Doomed Co"}).json()
    invite = api.post(
        f"/organizations/{org['id']}/invites", json={"email": unique_email("st"), "role": "agent"}
    ).json()
    link = api.post("/links", json={"target_url": "https://example.com/contract"}).json()
    doomed_link = api.post("/links", json={"target_url": "https://example.com/doomed"}).json()
    owner = api.get(f"/organizations/{org['id']}").json()["owner_id"]
    return {
        "organization_id": org["id"],
        "doomed_id": doomed["id"],
        "invite_id": invite["id"],
        "link_id": link["id"],
        "doomed_link_id": doomed_link["id"],
        "user_id": owner,
        "member_id": next(
            m["user_id"]
            for m in api.get(f"/organizations/{org['id']}/members").json()["items"]
            if m["email"] == member_email
        ),
    }


def _active(base_url: str, key: str) -> str:
    """The public id of the key's workspace (the organization made in the browser)."""
    workspaces = httpx.get(
        f"{base_url}/api/organizations", headers={"Authorization": f"Bearer {key}"}
    ).json()
    return next(w["id"] for w in workspaces if w["active"])


def config(key: str, ids: dict[str, int | str] | None) -> str:
    """schemathesis.toml: auth and, with `ids`, which real id each path parameter
    takes. The stateful phase runs without them: it reads, changes and deletes what its own
    requests created."""

    def pin(match: dict[str, str | list[str]], **parameters: int | str) -> str:
        lines = [f"{k} = {json.dumps(v)}" for k, v in match.items()]  # JSON strings are TOML
        params = ", ".join(f'"path.{k}" = {json.dumps(v)}' for k, v in parameters.items())
        return "\n".join(["[[operations]]", *lines, f"parameters = {{ {params} }}", ""])

    lines = [
        f'headers = {{ Authorization = "Bearer {key}" }}',
        "seed = 20261123",
        "workers = 1",
        "request-timeout = 20",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
    ]
    if ids is None:
        return "\n".join(lines)
    org, one = ids["organization_id"], "/api/organizations/{organization_id}"
    member = f"{one}/members/{{user_id}}"
    link = "/api/links/{link_id}"
    return "\n".join(
        [
            *lines,
            pin({"include-path": one, "include-method": "DELETE"}, organization_id=ids["doomed_id"]),
            pin({"include-path": one, "include-method": ["GET", "PUT"]}, organization_id=org),
            pin(
                {"include-path": member, "include-method": "PATCH"},
                organization_id=org,
                user_id=ids["member_id"],
            ),
            pin(
                {"include-path": member, "include-method": "DELETE"},
                organization_id=org,
                user_id=ids["user_id"],
            ),
            pin(
                {
                    "include-path-regex": r"^/api/organizations/\{organization_id\}/"
                    r"(?!members/\{user_id\}$)"
                },
                organization_id=org,
                invite_id=ids["invite_id"],
            ),
            pin({"include-path": link, "include-method": "DELETE"}, link_id=ids["doomed_link_id"]),
            pin({"include-path": link, "include-method": ["PATCH"]}, link_id=ids["link_id"]),
            pin({"include-path-regex": r"^/api/links/\{link_id\}/"}, link_id=ids["link_id"]),
        ]
    )


def run_schemathesis(
    base_url: str, key: str, workdir: Path, phases: str, ids: dict[str, int] | None
) -> str:
    """One run with every check; its whole output (also kept in `workdir`)."""
    toml = workdir / f"schemathesis-{phases.replace(',', '-')}.toml"
    toml.write_text(config(key, ids))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(toml),
            "--no-color",
            "run",
            f"{base_url}/api/openapi.json",
            "--checks",
            "all",
            "--exclude-path-regex",
            EXCLUDED,
            "--phases",
            phases,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout + result.stderr
    toml.with_suffix(".txt").write_text(output)
    assert result.returncode == 0, output[-8000:]
    summary = json.dumps(output[-1500:])
    assert " passed" in output and "failed" not in output.split("SUMMARY")[-1], summary
    return output


def test_every_rest_operation_honours_the_openapi_document(
    page: Page, base_url: str, tmp_path: Path, mail_dir: Path
):
    address = unique_email("contract")
    register(page, address)
    create_organization(page, "Contract Co")
    confirm_email(page, mail_dir, address)
    key = create_key_in_ui(page, "schemathesis")
    member = unique_email("member")
    httpx.post(
        f"{base_url}/api/organizations/{_active(base_url, key)}/invites",
        headers={"Authorization": f"Bearer {key}"},
        json={"email": member, "role": "agent"},
    ).raise_for_status()
    joining = page.context.browser.new_context(base_url=base_url)
    join_as_new_user(joining.new_page(), mail_dir, member)
    joining.close()

    output = run_schemathesis(
        base_url, key, tmp_path, "examples,coverage,fuzzing", seed(base_url, key, member)
    )
    spec = httpx.get(f"{base_url}/api/openapi.json").json()
    operations = sum(
        len(methods) for path, methods in spec["paths"].items() if not re.match(EXCLUDED, path)
    )
    assert operations >= 30 and f"{operations} selected" in output, output[-3000:]

    run_schemathesis(base_url, key, tmp_path, "stateful", ids=None)
