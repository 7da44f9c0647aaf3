"""Outgoing webhooks as an Owner uses them (SPEC §17): add an endpoint (a real local
receiver), copy its secret (shown once), send a test event, see it delivered in the delivery
log, resend it; the receiver verifies every delivery with the `standardwebhooks` library."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import create_organization, register, unique_email, wait_for_hydration
from tests.e2e.test_accessibility import assert_accessible
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def open_webhooks(page: Page) -> None:
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True).first).to_be_visible(
        timeout=20_000
    )
    wait_for_hydration(page)


def test_add_endpoint_send_test_event_and_resend(page: Page, receiver: Receiver):
    register(page, unique_email("webhooks"))
    create_organization(page, "Acme Webhooks")
    open_webhooks(page)

    # Refused: no event chosen, and a metadata address (even with private targets allowed
    # for the tests' receiver, the form still requires events).
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("button", name="Add Endpoint").click()
    expect(page.locator("#events-error")).to_have_text("Choose at least one event.")

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("member.joined — A person joined the organization").check()
    page.get_by_label("ticket.created — A support ticket was opened").check()
    page.get_by_role("button", name="Add Endpoint").click()
    secret = page.locator("#webhook-secret")
    expect(secret).to_contain_text("whsec_", timeout=20_000)
    receiver.secret = secret.inner_text()
    endpoint = page.get_by_role("group", name=f"Endpoint {receiver.url}")
    expect(endpoint).to_contain_text("member.joined, ticket.created")
    expect(endpoint.get_by_text("enabled", exact=True)).to_be_visible()
    assert_accessible(page, "the Webhooks page showing a new endpoint's secret")

    # Shown once: gone after Done, and not there after a reload either.
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.reload()
    wait_for_hydration(page)
    expect(endpoint).to_be_visible(timeout=20_000)
    expect(page.locator("#webhook-secret")).to_have_count(0)
    expect(page.get_by_text(receiver.secret)).to_have_count(0)

    endpoint.get_by_role("button", name=f"Send test event to {receiver.url}").click()
    log = page.locator("#delivery-log")
    first = log.get_by_role("row").nth(1)
    expect(first).to_contain_text("webhook.test", timeout=20_000)
    expect(first).to_contain_text("delivered", timeout=20_000)
    expect(first).to_contain_text("200")
    [got] = receiver.wait_for(1)
    assert got.verified and got.body["type"] == "webhook.test"
    assert_accessible(page, "the Webhooks page with its delivery log")

    first.get_by_role("button", name="Resend").click()
    expect(log.get_by_role("row")).to_have_count(3, timeout=20_000)
    expect(log.get_by_role("row").nth(1)).to_contain_text("delivered", timeout=20_000)
    again = receiver.wait_for(2)
    assert len(again) == 2 and again[1].verified
    assert again[1].message_id == got.message_id  # the same webhook-id

    # Change its events: ticked as they are, saved with their own button.
    endpoint.get_by_text("Change events").click()
    joined = endpoint.get_by_label("member.joined — A person joined the organization")
    expect(joined).to_be_checked()
    joined.uncheck()
    endpoint.get_by_label("ticket.closed — A ticket was closed").check()
    endpoint.get_by_role("button", name=f"Save events of {receiver.url}").click()
    expect(endpoint).to_contain_text("Events: ticket.created, ticket.closed", timeout=20_000)

    # Disable: no test events while disabled; Enable again.
    endpoint.get_by_role("button", name=f"Disable {receiver.url}").click()
    expect(endpoint.get_by_text("disabled", exact=True)).to_be_visible(timeout=20_000)
    expect(
        endpoint.get_by_role("button", name=f"Send test event to {receiver.url}")
    ).to_be_disabled()
    endpoint.get_by_role("button", name=f"Enable {receiver.url}").click()
    expect(endpoint.get_by_text("enabled", exact=True)).to_be_visible(timeout=20_000)

    # Delete, confirmed.
    endpoint.get_by_role("button", name=f"Delete endpoint {receiver.url}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete endpoint").click()
    expect(endpoint).to_have_count(0, timeout=20_000)
