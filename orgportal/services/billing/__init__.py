"""Billing use cases (SPEC §5, §6, §9), written once for either payer: an organization (its
plan and support seats) or a user (their own plan). The modules:

- `payer`: `Payer` (an organization or a user), `payer_for` (which also checks permission),
  and the payer's active or latest subscription;
- `provider`: which gateway a use case runs over when the caller leaves it out (the site's:
  Stripe, test mode or unconfigured), and a refusing provider turned into a DomainError;
- `overview`: what the billing cards show (`plan_summary`: the overview's plan line), and
  the plan in effect for a user;
- `checkout`: Checkout, its return URL, the Customer Portal, the payer's Stripe customer;
- `changes`: plan and seat changes to a live organization subscription;
- `subscriptions`: `apply`, the one writer of our subscription rows, and cancellation;
- `webhooks`: Stripe's events;
- `test_mode`: the in-app Checkout and Portal pages of the offline test mode.

Callers use the names below (`billing.start_checkout(...)`); `organization_id=None` means the
user's own plan. Services only: nothing here imports Reflex.
"""

from orgportal.services import plans
from orgportal.services.billing.changes import change_plan, change_seats
from orgportal.services.billing.checkout import (
    billing_portal,
    complete_checkout,
    personal_portal,
    start_checkout,
    start_personal_checkout,
)
from orgportal.services.billing.overview import (
    BillingOverview,
    PersonalPlan,
    PlanSummary,
    billing_details,
    effective_plan_source,
    overview,
    personal_overview,
    plan_summary,
)
from orgportal.services.billing.payer import PLAN, SUPPORT, Payer, payer_for
from orgportal.services.billing.subscriptions import cancel_all, cancel_personal
from orgportal.services.billing.test_mode import (
    get_test_checkout,
    pay_test_checkout,
    test_mode_cancel,
    test_mode_change_plan,
    test_mode_fail_payment,
    test_mode_personal_cancel,
    test_mode_personal_change_plan,
    test_mode_personal_fail_payment,
)
from orgportal.services.billing.webhooks import handle_event
from orgportal.services.seats import MAX_SEATS

__all__ = [
    "MAX_SEATS",
    "PLAN",
    "SUPPORT",
    "BillingOverview",
    "Payer",
    "PersonalPlan",
    "PlanSummary",
    "billing_portal",
    "cancel_all",
    "cancel_personal",
    "change_plan",
    "change_seats",
    "complete_checkout",
    "effective_plan_source",
    "get_test_checkout",
    "handle_event",
    "overview",
    "billing_details",
    "pay_test_checkout",
    "payer_for",
    "personal_overview",
    "personal_portal",
    "plan_summary",
    "plans",
    "start_checkout",
    "start_personal_checkout",
    "test_mode_cancel",
    "test_mode_change_plan",
    "test_mode_fail_payment",
    "test_mode_personal_cancel",
    "test_mode_personal_change_plan",
    "test_mode_personal_fail_payment",
]
