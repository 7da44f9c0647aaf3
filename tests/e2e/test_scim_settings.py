"""SCIM provisioning as an Owner sets it up (SPEC §16): locked on lower plans with a note
naming the Unlimited plan; on Unlimited the base URL to copy, a token shown once, used by an
identity provider against the running app, and revoked."""

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    confirm_in_dialog,
    create_organization,
    open_billing,
    open_settings,
    register,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible


def scim_card(page: Page):
    card = page.get_by_label("SCIM provisioning", exact=True)
    expect(card.get_by_role("heading", name="SCIM provisioning")).to_be_visible(timeout=20_000)
    return card


def subscribe_unlimited(page: Page) -> None:
    open_billing(page)
    page.get_by_label("Plan", exact=True).select_option("Unlimited")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#plan-name")).to_have_text("Unlimited", timeout=20_000)


def test_generate_a_token_see_it_once_provision_and_revoke(page: Page, base_url: str):
    owner = unique_email("scim-owner")
    register(page, owner)
    create_organization(page, "Provisioned Co")

    open_settings(page)
    card = scim_card(page)
    expect(card.locator("#scim-locked")).to_contain_text("part of the Unlimited plan")
    expect(card.get_by_role("button", name="Generate token")).to_have_count(0)
    assert_accessible(page, "settings with SCIM locked")

    subscribe_unlimited(page)
    open_settings(page)
    card = scim_card(page)
    expect(card.locator("#scim-base-url")).to_have_text(f"{base_url}/scim/v2")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    card.get_by_role("button", name="Copy SCIM base URL").click()
    expect(page.get_by_text("SCIM base URL copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}/scim/v2"

    card.get_by_role("button", name="Generate token").click()
    shown = card.locator("#new-scim-token")
    expect(shown).to_contain_text("scim_")
    token = shown.inner_text().strip()
    expect(card.get_by_role("status")).to_contain_text("will not be shown again")
    card.get_by_role("button", name="Copy token").click()
    expect(page.get_by_text("SCIM token copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    expect(card.locator("#scim-token-status")).to_contain_text(token[:13])
    assert_accessible(page, "settings with a new SCIM token")

    # the identity provider uses it against the running app
    scim = httpx.Client(
        base_url=f"{base_url}/scim/v2", headers={"Authorization": f"Bearer {token}"}
    )
    created = scim.post(
        "/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": unique_email("provisioned"),
            "name": {"givenName": "Pat", "familyName": "Provisioned"},
            "emails": [{"value": unique_email("provisioned"), "primary": True}],
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/scim+json")

    # shown once: after a reload only its start is left
    page.reload()
    card = scim_card(page)
    expect(card.locator("#scim-token-status")).to_contain_text(token[:13])
    expect(card.locator("#new-scim-token")).to_have_count(0)
    expect(card.locator("#scim-token-status")).not_to_contain_text("Never")  # it was used

    confirm_in_dialog(page, card.get_by_role("button", name="Revoke"), "Revoke token")
    expect(page.get_by_text("SCIM token revoked")).to_be_visible()
    expect(card.get_by_role("button", name="Generate token")).to_be_visible()
    refused = scim.get("/Users")
    assert refused.status_code == 401
    assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
