"""`/api/organizations/{id}/billing`: the plan, subscription and seats, read only (SPEC §5, §6).

Every member may read it; an organization API key needs its "Billing (read)" scope (the
`billing.billing_details` service checks `Permission.VIEW_BILLING`). Changes stay on the Billing
page, where the payment provider is.
"""

from datetime import datetime

from pydantic import BaseModel

from orgportal.api.rest.deps import Caller, rest_router
from orgportal.api.rest.path_ids import OrganizationRef
from orgportal.db import unit_of_work
from orgportal.services import billing

router = rest_router("/organizations/{organization_id}/billing", "billing")


class BillingOut(BaseModel):
    plan: str
    plan_status: str
    plan_interval: str
    renews_at: datetime | None
    support_status: str
    seats_purchased: int
    seats_used: int
    test_mode: bool


@router.get("", summary="Plan, subscription status and support seats (read only)")
def get_billing(organization_id: OrganizationRef, caller: Caller) -> BillingOut:
    with unit_of_work() as session:
        view = billing.billing_details(session, user=caller.user, organization_id=organization_id)
    return BillingOut(
        plan=view.plan.name,
        plan_status=view.plan_status,
        plan_interval=view.plan_interval,
        renews_at=view.renews_at,
        support_status=view.support_status,
        seats_purchased=view.seats_purchased,
        seats_used=view.seats_used,
        test_mode=view.test_mode,
    )
