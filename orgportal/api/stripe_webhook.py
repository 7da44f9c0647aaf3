"""POST /api/stripe/webhook: Stripe-signed events into the billing service (SPEC §9)."""

import json
import logging

import stripe
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from orgportal.adapters.billing import BillingUnavailable, gateway_from_settings
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import billing

router = APIRouter(prefix="/api/stripe", tags=["billing"])
log = logging.getLogger(__name__)


@router.post("/webhook", summary="Stripe webhook (Stripe-signed)")
async def stripe_webhook(request: Request) -> JSONResponse:
    payload = await request.body()
    secret = settings.stripe_webhook_secret
    if not secret:
        return JSONResponse({"detail": "Webhooks are not configured."}, status_code=400)
    try:
        stripe.Webhook.construct_event(payload, request.headers.get("stripe-signature", ""), secret)
    except (ValueError, stripe.SignatureVerificationError):
        return JSONResponse({"detail": "Invalid signature."}, status_code=400)
    event = json.loads(payload)
    try:
        handled = await _handle(event)
    except BillingUnavailable as exc:  # Stripe retries a 5xx later
        log.warning("webhook %s could not reach Stripe: %s", event.get("id"), exc)
        return JSONResponse({"detail": "Billing provider unavailable."}, status_code=503)
    return JSONResponse({"received": True, "duplicate": not handled})


async def _handle(event: dict) -> bool:
    return await run_in_threadpool(_apply, event)


def _apply(event: dict) -> bool:
    try:
        with unit_of_work() as session:
            return billing.handle_event(session, gateway_from_settings(session), event)
    except IntegrityError:  # the same event id committed meanwhile by a concurrent delivery
        return False
