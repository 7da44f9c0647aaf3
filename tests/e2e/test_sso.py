"""Single sign-on as people use it (SPEC §16), against real identity providers the test
starts: an OpenID Connect provider built on authlib's server side (tests/oidc_provider.py)
and a SAML IdP built on pysaml2's IdP side (tests/saml_idp.py).

The Owner of an Unlimited organization with a verified company domain sets SSO up on the
Settings page (copying the values the IdP asks for), runs Test connection (a real sign-in
at the IdP), turns Enforce SSO on; then someone at the domain, in their own browser,
presses "Continue with SSO" on the sign-in page, gives their work email and comes back
signed in, a member with the join-by-domain role (their account made just in time)."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dns_server import LocalDns
from tests.e2e.helpers import (
    PASSWORD,
    create_organization,
    open_settings,
    register,
    sign_in,
    wait_for_hydration,
    wait_for_toasts_to_close,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_company_domains import subscribe_unlimited, verified_company_domain
from tests.oidc_provider import IdpUser, OidcProvider
from tests.saml_idp import SamlIdp, SamlUser


@pytest.fixture(scope="module")
def oidc_provider():
    running = OidcProvider().start()
    yield running
    running.stop()


@pytest.fixture
def other_page(browser: Browser, base_url):
    """Someone else, in their own browser."""
    context = browser.new_context(base_url=base_url)
    yield context.new_page()
    context.close()


def sso_card(page: Page):
    card = page.locator("#sso-card")
    expect(card.get_by_role("heading", name="Single sign-on")).to_be_visible(timeout=20_000)
    return card


def continue_with_sso(page: Page, address: str) -> None:
    page.goto("/login")
    wait_for_hydration(page)
    page.get_by_role("button", name="Continue with SSO").click()
    form = page.get_by_role("form", name="Single sign-on")
    form.get_by_label("Work email").fill(address)
    form.get_by_role("button", name="Continue").click()


def test_oidc_set_up_test_enforce_and_sign_in(
    page: Page, other_page: Page, local_dns: LocalDns, oidc_provider: OidcProvider
):
    domain = f"oidc-{uuid.uuid4().hex[:8]}.com"
    org = f"Oidc {domain[5:13]}"
    verified_company_domain(page, local_dns, org, domain, "Join automatically")

    open_settings(page)
    card = sso_card(page)
    expect(card.get_by_label("Protocol")).to_have_value("oidc")
    redirect_uri = card.locator("dd code").first.inner_text()
    assert redirect_uri.endswith("/api/sso/oidc/callback")
    client = oidc_provider.add_client(redirect_uri)

    form = card.get_by_role("form", name="OpenID Connect")
    form.get_by_label("Issuer URL").fill("http://idp.example.com")
    form.get_by_label("Client ID").fill(client.client_id)
    form.get_by_label("Client secret").fill(client.client_secret)
    form.get_by_role("button", name="Save OpenID Connect").click()
    # nothing answers there: said beside the field, nothing saved
    expect(card.locator("#oidc_issuer-error")).to_contain_text(
        "Could not read http://idp.example.com/.well-known/openid-configuration", timeout=20_000
    )

    form.get_by_label("Issuer URL").fill(oidc_provider.issuer)
    form.get_by_role("button", name="Save OpenID Connect").click()
    expect(page.get_by_text("OpenID Connect saved. Run Test connection next.")).to_be_visible(
        timeout=20_000
    )
    expect(card.get_by_role("button", name="Enforce SSO")).to_be_disabled()
    expect(card.get_by_label("Client secret")).to_have_attribute(
        "placeholder", "Saved: leave blank to keep it"
    )
    wait_for_toasts_to_close(page)
    assert_accessible(page, "settings with single sign-on set up")

    # Test connection: a real sign-in at the provider, back to this card
    oidc_provider.user = IdpUser(sub=f"tester-{domain}", email=f"it@{domain}")
    card.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(re.compile(r"/organization/settings/?\?sso_test=ok$"), timeout=20_000)
    card = sso_card(page)
    expect(card.get_by_role("status")).to_contain_text("Test connection succeeded")
    expect(card.locator("#sso-tested")).to_contain_text("Last successful test")

    card.get_by_role("button", name="Enforce SSO").click()
    expect(card.locator("#sso-enforced")).to_contain_text(domain, timeout=20_000)
    expect(card.locator("#sso-enforced")).to_contain_text("break-glass")
    wait_for_toasts_to_close(page)
    assert_accessible(page, "settings with single sign-on enforced")

    # enforced: someone at the domain with a password is sent to SSO instead
    other_page.goto("/register")
    wait_for_hydration(other_page)
    other_page.get_by_label("First name").fill("Pat")
    other_page.get_by_label("Last name").fill("Lee")
    other_page.get_by_label("Email").fill(f"pat@{domain}")
    other_page.get_by_label("Password").fill(PASSWORD)
    other_page.get_by_role("button", name="Create account").click()
    expect(other_page.get_by_role("heading", name="Check your inbox")).to_be_visible(timeout=20_000)
    other_page.get_by_role("link", name="Sign in").click()
    expect(other_page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(other_page, f"pat@{domain}")
    expect(other_page.get_by_role("alert")).to_contain_text(
        f"{org} signs in its people with single sign-on", timeout=20_000
    )
    expect(other_page.get_by_role("alert")).to_contain_text("Continue with SSO")

    # someone at the domain signs in with SSO in their own browser: account made just in time
    oidc_provider.user = IdpUser(
        sub=f"grace-{domain}", email=f"grace@{domain}", given_name="Grace", family_name="Hopper"
    )
    other_page.goto("/login")
    wait_for_hydration(other_page)
    other_page.get_by_role("button", name="Continue with SSO").click()
    assert_accessible(other_page, "sign-in page with the single sign-on form")
    form = other_page.get_by_role("form", name="Single sign-on")
    form.get_by_label("Work email").fill("grace@unknown-corp.com")
    form.get_by_role("button", name="Continue").click()
    expect(form.get_by_role("alert")).to_contain_text(
        "No single sign-on is set up for unknown-corp.com", timeout=20_000
    )
    form.get_by_label("Work email").fill(f"grace@{domain}")
    form.get_by_role("button", name="Continue").click()
    expect(other_page.get_by_role("heading", name=org)).to_be_visible(timeout=30_000)
    expect(other_page.locator("#role-badge")).to_have_text("Agent")
    other_page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    expect(other_page.get_by_text(f"grace@{domain}").first).to_be_visible(timeout=20_000)

    # a refused answer from the provider says why, on a page of its own
    oidc_provider.fault = "wrong_audience"
    try:
        other_page.context.clear_cookies()
        fresh = other_page.context.new_page()  # signed out, a new tab
        continue_with_sso(fresh, f"grace@{domain}")
        expect(fresh.get_by_role("heading", name="Single sign-on did not work")).to_be_visible(
            timeout=20_000
        )
        expect(fresh.get_by_role("alert")).to_contain_text("audience")
        assert_accessible(fresh, "single sign-on refusal page")
    finally:
        oidc_provider.fault = ""


@pytest.fixture(scope="module")
def saml_idp():
    running = SamlIdp().start()
    yield running
    running.stop()


def test_saml_set_up_test_and_sign_in(
    page: Page, other_page: Page, local_dns: LocalDns, saml_idp: SamlIdp, base_url: str, tmp_path
):
    domain = f"saml-{uuid.uuid4().hex[:8]}.com"
    org = f"Saml {domain[5:13]}"
    verified_company_domain(page, local_dns, org, domain, "Join automatically")

    open_settings(page)
    card = sso_card(page)
    card.get_by_label("Protocol").select_option("SAML 2.0")
    form = card.get_by_role("form", name="SAML 2.0")
    form.get_by_label("IdP metadata URL").fill(f"{saml_idp.base}/metadata")
    form.get_by_role("button", name="Save SAML").click()
    expect(page.get_by_text("SAML saved. Run Test connection next.")).to_be_visible(timeout=20_000)
    expect(card.get_by_text(saml_idp.entity_id)).to_be_visible()
    acs_url, entity_id = card.locator("dd code").all_inner_texts()
    assert acs_url.startswith(base_url) and acs_url.endswith("/acs")
    wait_for_toasts_to_close(page)
    assert_accessible(page, "settings with SAML single sign-on")

    # the same metadata as a file, uploaded
    metadata_file = tmp_path / "idp-metadata.xml"
    metadata_file.write_text(httpx.get(f"{saml_idp.base}/metadata").text)
    card.locator("#sso-metadata-upload input[type=file]").set_input_files(str(metadata_file))
    expect(page.get_by_text("SAML saved from the uploaded metadata.")).to_be_visible(timeout=20_000)

    # the IdP's administrator imports our metadata (the Entity ID is its address)
    saml_idp.trust_sp(httpx.get(entity_id).text)

    saml_idp.user = SamlUser(email=f"it@{domain}")
    card.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(re.compile(r"/organization/settings/?\?sso_test=ok$"), timeout=20_000)
    card = sso_card(page)
    expect(card.locator("#sso-tested")).to_contain_text("Last successful test")

    saml_idp.user = SamlUser(email=f"lin@{domain}", given_name="Lin", surname="Chen")
    continue_with_sso(other_page, f"lin@{domain}")
    expect(other_page.get_by_role("heading", name=org)).to_be_visible(timeout=30_000)
    expect(other_page.locator("#role-badge")).to_have_text("Agent")

    # an unsigned assertion is refused, with the reason on a page of its own
    saml_idp.fault = "unsigned"
    try:
        other_page.context.clear_cookies()
        fresh = other_page.context.new_page()  # signed out, a new tab
        continue_with_sso(fresh, f"lin@{domain}")
        expect(fresh.get_by_role("alert")).to_contain_text("not signed", timeout=20_000)
    finally:
        saml_idp.fault = ""


def test_owner_break_glass_password_sign_in_is_audited(
    page: Page, local_dns: LocalDns, oidc_provider: OidcProvider
):
    """The Owner, at the enforced domain, still signs in with a password (the IdP may be
    down), and the audit log says so."""
    domain = f"glass-{uuid.uuid4().hex[:8]}.com"
    org = f"Glass {domain[6:14]}"
    owner = f"owner@{domain}"
    register(page, owner)
    create_organization(page, org)
    subscribe_unlimited(page)
    open_settings(page)
    wait_for_hydration(page)
    page.get_by_label("Company domain", exact=True).fill(domain)
    page.get_by_role("button", name="Add company domain").click()
    row = page.get_by_role("group", name=f"Company domain {domain}")
    expect(row).to_be_visible(timeout=20_000)
    name, value = row.locator("code").all_inner_texts()
    local_dns.set_txt(name, value)
    row.get_by_role("button", name=f"Verify {domain} now").click()
    expect(row.get_by_text("Verified", exact=True)).to_be_visible(timeout=20_000)

    card = sso_card(page)
    client = oidc_provider.add_client(card.locator("dd code").first.inner_text())
    form = card.get_by_role("form", name="OpenID Connect")
    form.get_by_label("Issuer URL").fill(oidc_provider.issuer)
    form.get_by_label("Client ID").fill(client.client_id)
    form.get_by_label("Client secret").fill(client.client_secret)
    form.get_by_role("button", name="Save OpenID Connect").click()
    expect(page.get_by_text("OpenID Connect saved.")).to_be_visible(timeout=20_000)
    oidc_provider.user = IdpUser(sub=f"owner-{domain}", email=owner)
    card.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(re.compile(r"sso_test=ok$"), timeout=20_000)
    sso_card(page).get_by_role("button", name="Enforce SSO").click()
    expect(page.locator("#sso-enforced")).to_be_visible(timeout=20_000)

    page.get_by_role("button", name="Profile menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    sign_in(page, owner)
    expect(page.get_by_role("heading", name=org)).to_be_visible(timeout=20_000)
    page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name="Audit Log"
    ).click()
    expect(
        page.get_by_text("signed in with a password while SSO is enforced (break-glass)")
    ).to_be_visible(timeout=20_000)
