"""Public and account pages, as people meet them: a short link that does not exist (app host and a custom
domain), the country picker by keyboard alone, the Account page's sections, the recovery
codes left after signing in with one, "Skip to content", every element in a landmark, the
uploaded logo, conversion values with their currency and the VAT number as entered."""

import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import BrowserType, Page, expect

from tests.dns_server import LocalDns
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.helpers import (
    create_organization,
    open_settings,
    register,
    sign_in,
    unique_email,
    wait_for_hydration,
)
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_custom_domains import open_domains
from tests.e2e.test_organization_page import PNG_1x1
from tests.e2e.test_phone_layout import PHONE, assert_fits
from tests.e2e.test_two_factor import set_up_two_factor, sign_out, subscribe_professional


def expect_public_404(page: Page, what: str) -> None:
    """The styled page: a title, `lang`, the heading in the main landmark, no JSON."""
    expect(page).to_have_title("Short link not found · orgportal")
    assert page.locator("html").get_attribute("lang") == "en"
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="This short link does not exist")).to_be_visible()
    assert not page.locator("body").inner_text().lstrip().startswith("{")
    # the stylesheet applied (the app's indigo bar above the card)
    border = page.locator(".card").evaluate("e => getComputedStyle(e).borderTopColor")
    assert border == "rgb(62, 99, 221)", f"{what}: {border}"
    assert_accessible(page, what)


def test_an_unknown_short_link_is_a_page_for_people_and_json_for_programs(
    page: Page, base_url: str
):
    answer = page.goto("/l/no-such-link-here")
    assert answer is not None and answer.status == 404
    expect_public_404(page, "unknown short link")
    api = httpx.get(f"{base_url}/l/no-such-link-here", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json() == {"detail": "No such short link."}
    assert httpx.get(f"{base_url}/l/no-such-link-here").json()["detail"] == "No such short link."


def test_on_a_custom_domain_too(
    page: Page, base_url: str, local_dns: LocalDns, browser_type: BrowserType
):
    """A verified custom domain (set up as its Owner does), opened in a browser whose DNS
    sends the domain to this machine."""
    register(page, unique_email("public-404"))
    create_organization(page, "Branded 404 Co")
    subscribe_professional(page)
    open_domains(page)
    domain = f"go-{uuid.uuid4().hex[:8]}.example.com"
    wait_for_hydration(page)
    page.get_by_label("Domain", exact=True).fill(domain)
    page.get_by_role("button", name="Add Domain").click()
    row = page.get_by_role("group", name=f"Domain {domain}")
    expect(row).to_be_visible(timeout=20_000)
    name, value = (
        row.get_by_role("row", name=f"TXT record for {domain}").locator("code").all_inner_texts()
    )
    local_dns.set_txt(name, value)
    row.get_by_role("button", name=f"Verify {domain}").click()
    expect(row.get_by_text("Verified")).to_be_visible(timeout=20_000)

    port = base_url.rsplit(":", 1)[1]
    browser = browser_type.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {domain} 127.0.0.1"],
    )
    try:
        visitor = browser.new_page()
        problems: list[str] = []
        visitor.on(
            "console", lambda m: problems.append(m.text) if "Security Policy" in m.text else 0
        )
        answer = visitor.goto(f"http://{domain}:{port}/no-such-link")
        assert answer is not None and answer.status == 404
        expect_public_404(visitor, "unknown short link on a custom domain")
        expect(visitor.get_by_role("link")).to_have_count(0)  # nothing of the app there
        assert problems == []
    finally:
        browser.close()
    api = httpx.get(
        f"{base_url}/no-such-link", headers={"Host": domain, "Accept": "application/json"}
    )
    assert api.status_code == 404 and api.json() == {"detail": "No such short link."}


def choose_country_by_keyboard(page: Page, typed: str, expected: str, code: str) -> None:
    box = page.get_by_role("combobox", name="Country")
    box.focus()
    page.keyboard.type(typed)
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"country-option-{code}")
    active = page.get_by_role("listbox", name="Countries").get_by_role("option", selected=True)
    expect(active).to_have_text(expected)
    page.keyboard.press("Enter")
    expect(page.locator("#country-selected")).to_have_text(expected)
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()
    expect(box).to_have_value("")


def test_choose_a_country_with_the_keyboard_and_the_vat_number_stays_as_entered(page: Page):
    register(page, unique_email("country"))
    create_organization(page, "Keyboard Country Co")
    open_settings(page)
    page.get_by_role("button", name="Add business details").click()
    form = page.get_by_role("form", name="Business details")
    expect(form).to_be_visible()
    wait_for_hydration(page)

    choose_country_by_keyboard(page, "usa", "United States", "US")
    expect(form).to_be_visible()  # Enter chose; it did not submit the form
    expect(page.get_by_text("Business details saved.")).to_have_count(0)
    # the list of options: a listbox, the combobox names it
    box = page.get_by_role("combobox", name="Country")
    expect(box).to_have_attribute("aria-controls", "country-listbox")
    # ArrowUp from the first option wraps; Escape closes the list without choosing
    box.focus()
    page.keyboard.type("holland")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "country-option-NL")
    page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#country-selected")).to_have_text("United States")
    box.fill("")

    choose_country_by_keyboard(page, "uk", "United Kingdom", "GB")
    assert_accessible(page, "business details form with the country list")
    # the flags are drawn (SVG files: no emoji font is needed)
    box.focus()
    page.keyboard.type("britain")
    flag = page.get_by_role("option", name="United Kingdom").locator("img")
    expect(flag).to_have_attribute("src", "/flags/gb.svg")
    page.wait_for_function(
        "() => document.querySelector('#country-option-GB img')?.naturalWidth > 0"
    )
    page.keyboard.press("Escape")

    form.get_by_label("VAT Number").fill("gb 980 7806 84")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Business details saved.").first).to_be_visible(timeout=20_000)
    expect(page.locator("#country-shown")).to_have_text("United Kingdom")
    expect(page.get_by_text("GB 980 7806 84", exact=True)).to_be_visible()
    assert page.evaluate(
        "() => [...document.querySelectorAll('img[src=\"/flags/gb.svg\"]')]"
        ".some(i => i.naturalWidth > 0)"
    )


SECTIONS = [
    ("Profile", "/account/profile", "Profile"),
    ("Sign-in & security", "/account/security", "Two-factor sign-in"),
    ("Sessions", "/account/sessions", "Sessions"),
    ("Plan", "/account/plan", "Plan"),
]


def test_the_account_page_has_sections_with_their_own_addresses(page: Page, base_url: str):
    register(page, unique_email("sections"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    nav = page.get_by_role("navigation", name="Account")
    expect(nav.get_by_role("link", name="Profile")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="API keys")).to_have_count(0)  # not one long page
    for label, path, heading in SECTIONS:
        nav.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(f"{base_url}{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=20_000)
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(nav.locator("[aria-current=page]")).to_have_count(1)
        expect(page).to_have_title(f"{label} · Account · orgportal")
        assert_accessible(page, path)
    expect(page.get_by_role("heading", name="Plan", exact=True)).to_be_visible()
    page.goto("/account/security")  # each section opens by its address
    expect(page.get_by_role("heading", name="API keys")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Password", exact=True)).to_be_visible()
    page.set_viewport_size(PHONE)
    for _, path, heading in SECTIONS:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=20_000)
        assert_fits(page, f"{path} on a phone")


def test_after_a_recovery_code_the_app_says_how_many_are_left(page: Page):
    address = unique_email("recovery-left")
    register(page, address)
    set_up_two_factor(page)
    codes = page.locator("#recovery-codes li").all_inner_texts()
    page.get_by_role("button", name="Done").click()
    sign_out(page)
    sign_in(page, address)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible(timeout=20_000)
    notice = page.locator("#recovery-codes-notice")
    expect(notice).to_have_text(
        "You used a recovery code; 9 are left. Make new ones on the Sign-in & security page."
    )
    expect(page.get_by_role("status").filter(has=notice)).to_be_visible()
    assert_accessible(page, "the recovery codes notice")
    notice.get_by_role("link", name="Sign-in & security").click()
    expect(page).to_have_url(re.compile(r"/account/security$"), timeout=20_000)
    expect(page.get_by_text("9 unused recovery codes left.")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)
    page.reload()
    expect(page.get_by_text("9 unused recovery codes left.")).to_be_visible(timeout=20_000)
    expect(notice).to_have_count(0)


FIRST_FOCUSABLE = """() => [...document.querySelectorAll(
  'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
  .find((e) => !e.disabled && e.tabIndex >= 0)?.id"""


def expect_skip_link_works(page: Page, what: str, *, by_tab: bool = True) -> None:
    """The first focusable element; shown when focused; Enter moves focus to the main
    landmark. `by_tab`: reached by the page's first Tab (a page whose form takes the focus
    at once, like sign-in, is checked by its document order and focused directly)."""
    expect(page.get_by_role("main")).to_be_visible(timeout=20_000)
    # the page has loaded its content (not the spinner): there is a control to Tab to
    expect(page.get_by_role("main").locator("a, button, input").first).to_be_visible(
        timeout=20_000
    )
    assert page.evaluate(FIRST_FOCUSABLE) == "skip-link", what
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.bounding_box()["y"] < 0  # off-screen until focused
    if by_tab:
        page.keyboard.press("Tab")
    else:
        skip.focus()
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 0, f"{what}: {box}"
    page.keyboard.press("Enter")
    main = page.get_by_role("main")
    expect(main).to_be_focused()
    assert main.get_attribute("id") == "main-content"
    page.keyboard.press("Tab")  # on from the start of the main content, past the top bar
    inside = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside, f"{what}: Tab after the skip link left the main landmark"
    assert skip.bounding_box()["y"] < 0  # hidden again once focus moved on


def skip_link_hydrated(page: Page) -> None:
    """React has taken over the skip link (it keeps its props on the DOM node)."""
    page.wait_for_function(
        "() => { const a = document.getElementById('skip-link');"
        " return !!a && Object.keys(a).some(k => k.startsWith('__reactProps')); }",
        timeout=30_000,
    )


def test_skip_to_content_on_every_kind_of_page(page: Page):
    page.goto("/login")
    skip_link_hydrated(page)
    expect_skip_link_works(page, "/login", by_tab=False)  # the Email field has the focus
    page.goto("/register")
    skip_link_hydrated(page)
    expect_skip_link_works(page, "/register")
    register(page, unique_email("skip"))
    create_organization(page, "Skip Co")
    for path in ("/organization", "/links", "/account/security"):
        page.goto(path)
        skip_link_hydrated(page)
        expect_skip_link_works(page, path)


def test_an_uploaded_logo_is_shown_as_such_and_can_be_removed(page: Page, tmp_path: Path):
    register(page, unique_email("logo-field"))
    create_organization(page, "Logo Field Co")
    open_settings(page)
    details = page.get_by_role("form", name="Organization details")
    image = tmp_path / "mark.png"
    image.write_bytes(PNG_1x1)
    details.get_by_label("Upload logo").set_input_files(str(image))
    expect(details.get_by_text("Uploaded logo will be used when you save.")).to_be_visible()
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Organization updated.").first).to_be_visible(timeout=20_000)
    page.reload()
    expect(details.get_by_text("Uploaded image")).to_be_visible(timeout=20_000)
    expect(details.get_by_label("Logo URL")).to_have_count(0)
    values = details.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert not [v for v in values if "/api/logos/" in v], values
    expect(details.get_by_label("Replace with another image")).to_be_attached()
    assert_accessible(page, "details with an uploaded logo")

    details.get_by_role("button", name="Remove logo").click()
    logo_url = details.get_by_label("Logo URL")
    expect(logo_url).to_have_value("")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Organization updated.").first).to_be_visible(timeout=20_000)
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Logo Field Co")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("img", name="Logo")).to_have_count(0)


def test_conversion_values_carry_their_currency(page: Page, base_url: str, mail_dir):
    from tests.e2e.helpers import confirm_email
    from tests.e2e.test_api_keys import create_key_in_ui

    address = unique_email("currency")
    register(page, address)
    create_organization(page, "Currency Co")
    confirm_email(page, mail_dir, address)
    key = create_key_in_ui(page, "Shop")
    slug = unique_email("sale").split("@")[0]
    page.goto("/links")
    wait_for_hydration(page)
    page.get_by_label("Target URL").fill("https://shop.example.com/")
    page.get_by_label("Custom slug (optional)").fill(slug)
    page.get_by_label("Append a click id (op_click) to the target").check()
    page.get_by_role("button", name="Create Link").click()
    expect(page.get_by_label(f"Link {slug}", exact=True)).to_be_visible(timeout=20_000)

    page.goto("/analytics")
    expect(page.locator("#analytics-value")).to_have_text("£0.00", timeout=20_000)
    followed = httpx.get(f"{base_url}/l/{slug}", headers={"User-Agent": "Mozilla/5.0 Firefox/130"})
    click_id = re.search(r"op_click=([A-Za-z0-9_-]+)", followed.headers["location"]).group(1)
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(20):  # the click is written a moment after the redirect
        made = httpx.post(
            f"{base_url}/api/conversions",
            json={"click_id": click_id, "name": "purchase", "value": 1234.5},
            headers=headers,
        )
        if made.status_code != 404:
            break
        page.wait_for_timeout(250)
    assert made.status_code in (200, 201), made.text
    page.reload()
    expect(page.locator("#analytics-value")).to_have_text("£1,234.50", timeout=20_000)
