"""Pytest fixtures for tests that talk to the fake Stripe server (tests/fake_stripe.py) over HTTP.

Load them in a test module with `pytest_plugins = ["tests.stripe_server"]` (tests/conftest.py
stays untouched) and reach everything through the fixtures: importing this module as well
makes pytest warn that it cannot rewrite its asserts. Fixtures:

- `stripe_server`: base URL of one fake server per test session, with our plans (price ids from
  `orgportal.services.plans`) already created. Its state is shared by the whole session: give
  each test its own customer and look objects up by id.
- `fake_stripe`: a `FakeStripe` for that URL: recorded requests, "customer pays", reset.
- `stripe_billing`: `StripeBilling` pointed at the fake.
- `stripe_webhooks`: a `WebhookReceiver` registered with the fake for the length of one test.
  Events are sent about a second after the request that caused them, and events caused by an
  earlier test may still arrive: wait for the one you want with `wait_for`.
"""

import json
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import stripe

from orgportal.adapters.billing import StripeBilling
from orgportal.services import plans
from tests.processes import free_port, listening, start, stop

STRIPE_KEY = "sk_test_x"
FAKE_SERVER = Path(__file__).with_name("fake_stripe.py")


def stripe_client(base_url: str) -> stripe.StripeClient:
    """stripe-python pointed at the fake; no retries, so a refusal shows at once."""
    return stripe.StripeClient(STRIPE_KEY, max_network_retries=0, base_addresses={"api": base_url})


def create_plans(base_url: str) -> None:
    """Our price ids as localstripe plans (gbp): every paid plan monthly and annual, and the
    per-seat support price. localstripe has no prices; a plan's id works as the price id."""
    client = stripe_client(base_url)
    wanted = [(plans.seat_price_id(), plans.SEAT_PRICE_PENCE, "month", "Support seat")]
    for plan in plans.PAID:
        for interval, period in (("monthly", "month"), ("annual", "year")):
            price = plans.price_id(plan.key, interval)
            wanted.append((price, plan.price_pence(interval), period, plan.name))
    for price, pence, period, name in wanted:
        client.v1.plans.create(
            params={
                "id": price,
                "amount": pence,
                "currency": "gbp",
                "interval": period,
                "product": {"name": name},  # inline product, as localstripe accepts
            }
        )


class FakeStripe:
    """The fake's test-only `/_config` routes."""

    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict]:
        """Requests received since the last `clear_requests`, oldest first, each
        `{"method", "path", "query", "body"}` with the form body parsed into dicts and lists
        (`line_items[0][price]` → `body["line_items"][0]["price"]`; values are strings)."""
        recorded = self.http.get("/_config/requests").raise_for_status().json()
        return [
            r
            for r in recorded
            if (path is None or r["path"] == path) and (method is None or r["method"] == method)
        ]

    def client(self) -> stripe.StripeClient:
        """stripe-python on the fake, to set up or inspect objects directly."""
        return stripe_client(self.url)

    def clear_requests(self) -> None:
        self.http.delete("/_config/requests").raise_for_status()

    def pay(self, checkout_id: str, payment_method: str | None = None) -> httpx.Response:
        """The customer completes Checkout (card `pm_card_visa` unless told otherwise, e.g.
        `pm_card_chargeCustomerFail`: then 402 and the session stays open)."""
        data = {"payment_method": payment_method} if payment_method else None
        return self.http.post(f"/_config/cs/{checkout_id}", data=data)

    def register_webhook(self, name: str, url: str, secret: str, events=None) -> None:
        data = {"url": url, "secret": secret}
        if events:
            data["events[]"] = list(events)
        self.http.post(f"/_config/webhooks/{name}", data=data).raise_for_status()

    def delete_webhook(self, name: str) -> None:
        self.http.delete(f"/_config/webhooks/{name}").raise_for_status()

    def reset(self) -> None:
        """Forget every object (webhook registrations stay), then recreate our plans."""
        self.http.delete("/_config/data").raise_for_status()
        create_plans(self.url)


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("fake_stripe") / "server.log"
    process = start(
        [sys.executable, str(FAKE_SERVER), str(port)], ready=listening(port), log=log,
        timeout=15, interval=0.05, what="fake Stripe server",
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        create_plans(url)
        yield url
    finally:
        stop(process, timeout=10)


@pytest.fixture(scope="session")
def fake_stripe(stripe_server: str) -> FakeStripe:
    return FakeStripe(stripe_server)


@pytest.fixture
def stripe_billing(stripe_server: str) -> StripeBilling:
    return StripeBilling(api_key=STRIPE_KEY, api_base=stripe_server)


@dataclass(frozen=True)
class Delivery:
    """One webhook POST as received: the raw body and the header to verify it with."""

    body: bytes
    signature: str

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 (in a thread) that keeps every webhook POSTed to it."""

    def __init__(self, secret: str):
        self.secret = secret
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._arrived:
                    receiver.deliveries.append(Delivery(body, self.headers["Stripe-Signature"]))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(
        self, event_type: str, match: Callable[[dict], bool] = lambda obj: True, timeout=10.0
    ) -> Delivery:
        """The first delivery of `event_type` whose `data.object` satisfies `match`."""

        def found():
            for delivery in self.deliveries:
                event = delivery.event
                if event["type"] == event_type and match(event["data"]["object"]):
                    return delivery
            return None

        with self._arrived:
            delivery = self._arrived.wait_for(found, timeout=timeout)
        if delivery is None:
            seen = [d.event["type"] for d in self.deliveries]
            raise AssertionError(f"no {event_type} webhook within {timeout}s; got {seen}")
        return delivery

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stripe_webhooks(fake_stripe: FakeStripe) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=f"whsec_{secrets.token_hex(16)}")
    name = f"pytest_{secrets.token_hex(4)}"
    fake_stripe.register_webhook(name, receiver.url, receiver.secret)
    try:
        yield receiver
    finally:
        fake_stripe.delete_webhook(name)
        receiver.close()
