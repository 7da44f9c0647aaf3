"""Which payment gateway a use case runs over, and what a refusing provider means to a page.

A caller may bring its own gateway (tests, the webhook route, a deletion that must cancel at
Stripe); the pages and the API leave it out, and the use case runs over the site's: Stripe when
a key is configured, else the offline test mode or the unconfigured refusal
(`adapters.billing.gateway_from_settings`). Over the site's gateway an unreachable or refusing
provider becomes a DomainError the page shows, like any other refusal.
"""

import functools
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from orgportal.adapters.billing import (
    BillingGateway,
    BillingUnavailable,
    TestModeBilling,
    gateway_from_settings,
)
from orgportal.config import settings
from orgportal.services.errors import DomainError, PermissionDenied

UseCase = Callable[..., Any]


def test_mode_on() -> bool:
    """No Stripe key, and the offline test mode is allowed here (SPEC §9)."""
    return not settings.stripe_secret_key and settings.test_mode_billing_allowed


def require_test_mode() -> None:
    """With real Stripe configured, or on a public address without BILLING_TEST_MODE=1,
    nothing may be 'paid' through the in-app test pages."""
    if settings.stripe_secret_key:
        raise PermissionDenied("Test mode is off: billing runs through Stripe.")
    if not settings.test_mode_billing_allowed:
        raise PermissionDenied("Test mode is off: billing is not configured on this server.")


def over_gateway(
    choose: Callable[[Session], BillingGateway] = gateway_from_settings,
) -> Callable[[UseCase], UseCase]:
    """Let a use case's `gateway` be left out: then `choose` picks it (the site's; the test
    pages' stand-in) and a BillingUnavailable becomes a DomainError."""

    def decorate(use_case: UseCase) -> UseCase:
        @functools.wraps(use_case)
        def run(session: Session, gateway: BillingGateway | None = None, /, *args, **kw):
            if gateway is not None:
                return use_case(session, gateway, *args, **kw)
            try:
                return use_case(session, choose(session), *args, **kw)
            except BillingUnavailable as exc:
                raise DomainError(str(exc) or "The payment provider is unavailable.") from exc

        return run

    return decorate


over_site_gateway = over_gateway()
over_test_gateway = over_gateway(TestModeBilling)
