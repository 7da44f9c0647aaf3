"""A Stripe-compatible HTTP server for tests: localstripe plus what our billing code also needs.

Run as `python tests/fake_stripe.py PORT`; it listens on 127.0.0.1 only and keeps its state in
memory (localstripe's CLI binds every interface and pickles to a shared /tmp file).

localstripe (GPL-3, a test-only dependency) runs in-process, so we can add what plain
localstripe 1.15.10 lacks for stripe-python 16 and our adapter (see /work/shared/STRIPE_NOTES.md):

- subscriptions accept `items[][price]` and `proration_behavior` / `payment_behavior`, and their
  items carry `price` as well as `plan`;
- `checkout.session` and `billing_portal.session` objects, plus `/_config/cs/{id}`, where the
  "customer pays" (GET follows `session.url` like a browser, POST is for tests);
- the webhook events localstripe never sends: `checkout.session.completed`,
  `customer.subscription.updated`, `invoice.paid` and `invoice.payment_failed` (declined card
  while paying an invoice). They go through localstripe's own sender, so every webhook
  registered with `POST /_config/webhooks/NAME` (url, secret) receives them, signed;
- every request is recorded (`GET /_config/requests`, cleared by `DELETE`), so tests can assert
  the exact parameters stripe-python sent.

Plans (created by the tests with our price ids) stand in for prices: localstripe has no
`/v1/prices`, and a plan exported as an item's `price` has the same `id`.
"""

import sys

from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    Event,
    Invoice,
    PaymentIntent,
    PaymentMethod,
    Plan,
    StripeObject,
    Subscription,
    SubscriptionItem,
)

BASE_URL = "http://127.0.0.1:8420"  # set by main(); session URLs must be absolute
REQUESTS: list[dict] = []


def emit(event_type: str, obj) -> None:
    """Send an event to every registered webhook, the way localstripe sends its own."""
    resources.schedule_webhook(Event(event_type, obj))


# --- subscriptions: `price` is our word for localstripe's `plan` ------------------------------


def _plans_for_prices(items, current=None):
    """Map `items[][price]` to `plan`. Real Stripe keeps an item's quantity when only its price
    changes; localstripe would reset it to 1, so carry the current quantity over."""
    for item in items or []:
        if "price" in item:
            item["plan"] = item.pop("price")
        if current is not None and item.get("quantity") is None:
            item["quantity"] = current.quantity
    return items


_original_init = Subscription.__init__
_original_update = Subscription._update


def _subscription_init(self, *args, items=None, payment_behavior="allow_incomplete", **kw):
    if payment_behavior not in ("allow_incomplete", "error_if_incomplete"):
        payment_behavior = "allow_incomplete"  # e.g. default_incomplete: not modelled
    _original_init(
        self, *args, items=_plans_for_prices(items), payment_behavior=payment_behavior, **kw
    )


def _subscription_update(self, items=None, proration_behavior=None, payment_behavior=None, **kw):
    """Accept (and ignore: localstripe has its own proration) the proration options, then
    send the `customer.subscription.updated` that real Stripe sends."""
    if proration_behavior not in (None, "create_prorations", "none", "always_invoice"):
        raise UserError(400, "Invalid proration_behavior")
    _original_update(self, items=_plans_for_prices(items, self.items._list[0]), **kw)
    emit("customer.subscription.updated", self)


Subscription.__init__ = _subscription_init
Subscription._update = _subscription_update
SubscriptionItem.price = property(lambda self: self.plan)  # current API shape: items have price


# --- invoices: the events Stripe sends that localstripe does not ------------------------------

_original_paid = Invoice._on_payment_success
_original_confirm = PaymentIntent._confirm


def _invoice_paid(self):
    _original_paid(self)
    emit("invoice.paid", self)


def _confirm(self, on_failure_now):
    """Paying an invoice confirms its PaymentIntent with a no-op failure callback, so a declined
    card sends no `invoice.payment_failed`. (Other callers report failure themselves.)"""
    if not self.invoice or on_failure_now == self._report_failure:
        return _original_confirm(self, on_failure_now)

    def failed():
        emit("invoice.payment_failed", Invoice._api_retrieve(self.invoice))
        on_failure_now()

    return _original_confirm(self, failed)


Invoice._on_payment_success = _invoice_paid
PaymentIntent._confirm = _confirm
resources.Store.dump_to_disk = lambda self: None  # memory only: no shared pickle file


# --- Checkout and the customer portal ---------------------------------------------------------

CHECKOUT_FIELDS = [
    "mode",
    "customer",
    "customer_email",
    "client_reference_id",
    "success_url",
    "cancel_url",
]
CHECKOUT_PARAMS = {*CHECKOUT_FIELDS, "line_items", "metadata", "subscription_data", "locale"}


class CheckoutSession(StripeObject):
    """A subscription-mode Checkout Session; `config_pay` plays the paying customer. Unknown
    parameters are refused, as Stripe does, so a typo in our adapter fails the tests."""

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, **params):
        if unexpected := set(params) - CHECKOUT_PARAMS:
            raise UserError(400, "Unexpected " + ", ".join(sorted(unexpected)))
        items = params.get("line_items") or []
        if params.get("mode") != "subscription" or len(items) != 1 or "success_url" not in params:
            raise UserError(400, "mode=subscription, one line item and success_url are required")
        Plan._api_retrieve(items[0].get("price", ""))  # 404 for an unknown price
        if params.get("customer"):
            Customer._api_retrieve(params["customer"])
        super().__init__()
        for key in CHECKOUT_FIELDS:
            setattr(self, key, params.get(key))
        self.metadata = params.get("metadata") or {}
        self.status, self.payment_status, self.subscription = "open", "unpaid", None
        self.url = f"{BASE_URL}/_config/cs/{self.id}"
        self._line_item = items[0]
        self._subscription_metadata = (params.get("subscription_data") or {}).get("metadata") or {}


class PortalSession(StripeObject):
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(self, customer=None, return_url=None, **kwargs):
        if kwargs or not customer:
            raise UserError(400, "customer is required; unexpected: " + ", ".join(kwargs))
        Customer._api_retrieve(customer)
        super().__init__()
        self.customer = customer
        self.return_url = return_url
        self.url = f"{BASE_URL}/_config/bps/{self.id}"


async def config_pay(request: web.Request) -> web.StreamResponse:
    """The customer pays a checkout: customer (if none), card, subscription, then the signed
    `checkout.session.completed`. POST may send `payment_method` (default `pm_card_visa`)."""
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    if session.status == "open":
        form = await request.post() if request.method == "POST" else {}
        if not session.customer:
            session.customer = Customer(email=session.customer_email).id
        card = PaymentMethod._api_retrieve(form.get("payment_method", "pm_card_visa"))
        PaymentMethod._api_attach(card.id, customer=session.customer)
        Customer._api_update(session.customer, invoice_settings={"default_payment_method": card.id})
        item = session._line_item
        subscription = Subscription(
            customer=session.customer,
            items=[{"price": item["price"], "quantity": item.get("quantity", 1)}],
            metadata=dict(session._subscription_metadata),
        )
        if subscription.status != "active":  # declined: Checkout stays open, as on Stripe
            raise UserError(402, "Your card was declined.", {"code": "card_declined"})
        session.subscription = subscription.id
        session.status, session.payment_status = "complete", "paid"
        emit("checkout.session.completed", session)
    if request.method == "GET":
        raise web.HTTPSeeOther(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id))
    return server.json_response(session._export())


async def config_portal(request: web.Request) -> web.StreamResponse:
    """A browser opening the portal goes straight back to the app."""
    portal = PortalSession._api_retrieve(request.match_info["id"])
    raise web.HTTPSeeOther(portal.return_url)


# --- request log and webhook removal ---------------------------------------------------------


@web.middleware
async def record_requests(request: web.Request, handler):
    """Keep method, path, query and parsed form body of every request (outermost middleware,
    so refused requests are recorded too)."""
    if request.path != "/_config/requests":
        body = await server.get_post_data(request, remove_auth=False) if request.body_exists else {}
        REQUESTS.append(
            {
                "method": request.method,
                "path": request.path,
                "query": server.unflatten_data(request.query),
                "body": body or {},
            }
        )
    return await handler(request)


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response(REQUESTS)


async def clear_requests(request: web.Request) -> web.Response:
    REQUESTS.clear()
    return web.Response()


async def delete_webhook(request: web.Request) -> web.Response:
    webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response()


def main() -> None:
    global BASE_URL
    port = int(sys.argv[1])
    BASE_URL = f"http://127.0.0.1:{port}"
    app = server.app
    app.middlewares.insert(0, record_requests)
    app.router.add_post("/v1/checkout/sessions", server.api_create(CheckoutSession, None))
    app.router.add_get("/v1/checkout/sessions/{id}", server.api_retrieve(CheckoutSession, None))
    app.router.add_post("/v1/billing_portal/sessions", server.api_create(PortalSession, None))
    app.router.add_route("*", "/_config/cs/{id}", config_pay)
    app.router.add_get("/_config/bps/{id}", config_portal)
    app.router.add_get("/_config/requests", list_requests)
    app.router.add_delete("/_config/requests", clear_requests)
    app.router.add_delete("/_config/webhooks/{id}", delete_webhook)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
