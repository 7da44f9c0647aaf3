"""The Organization Plan and Support Subscription cards, and the test-mode billing pages."""

from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from orgportal.adapters.billing import BillingUnavailable, TestModeBilling, gateway_from_settings
from orgportal.db import unit_of_work
from orgportal.models import User
from orgportal.services import billing, plans
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.services.permissions import Permission, has_permission
from orgportal.state.base import AppState, navigate

PLAN_OPTIONS = [plan.name for plan in plans.PAID]
PLAN_KEY_BY_NAME = {plan.name: plan.key for plan in plans.PAID}
INTERVAL_LABELS = {"monthly": "Monthly", "annual": "Annual"}
INTERVAL_BY_LABEL = {label: key for key, label in INTERVAL_LABELS.items()}


class PlanChoice(rx.State, mixin=True):
    """The plan selector and billing interval, as on the Plan card and the test portal."""

    chosen_plan: str = PLAN_OPTIONS[0]
    chosen_interval: str = "Monthly"

    @rx.event
    def choose_plan(self, name: str):
        self.chosen_plan = name if name in PLAN_KEY_BY_NAME else PLAN_OPTIONS[0]

    @rx.event
    def choose_interval(self, label: str):
        self.chosen_interval = label if label in INTERVAL_BY_LABEL else "Monthly"

    def _choice(self) -> tuple[str, str]:
        """(plan key, interval); the service refuses anything else."""
        return (
            PLAN_KEY_BY_NAME.get(self.chosen_plan, ""),
            INTERVAL_BY_LABEL.get(self.chosen_interval, ""),
        )


class BillingState(PlanChoice, AppState):
    my_role: str = ""
    test_mode: bool = True
    plan_name: str = "Free"
    plan_status: str = ""
    plan_interval: str = ""
    renews_on: str = ""
    link_limit: str = ""
    support_status: str = ""
    seats_purchased: int = 0
    seats_used: int = 0
    seats_pending: int = 1
    seats_error: str = ""

    @rx.var
    def can_manage(self) -> bool:
        return bool(self.my_role) and has_permission(self.my_role, Permission.MANAGE_BILLING)

    @rx.var
    def support_active(self) -> bool:
        return self.support_status in plans.ENTITLED_STATUSES

    @rx.var
    def min_seats(self) -> int:
        return max(1, self.seats_used)

    @rx.var
    def monthly_cost(self) -> str:
        return plans.pounds(self.seats_purchased * plans.SEAT_PRICE_PENCE)

    @rx.var
    def pending_cost(self) -> str:
        return plans.pounds(self.seats_pending * plans.SEAT_PRICE_PENCE)

    @rx.var
    def chosen_price(self) -> str:
        plan = plans.PLANS[PLAN_KEY_BY_NAME.get(self.chosen_plan, "starter")]
        interval = INTERVAL_BY_LABEL.get(self.chosen_interval, "monthly")
        per = "month" if interval == "monthly" else "year"
        return f"{plans.pounds(plan.price_pence(interval))} / {per}"

    @rx.event
    def load(self):
        """Shows the cards; back from Checkout it activates at once (the webhook may lag)."""
        query = self.router.url.query_parameters
        returned = query.get("checkout") == "success" and query.get("session_id")
        message = None
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org_id = viewer.session.active_org_id
                if not org_id:
                    return
                if returned:
                    gateway = gateway_from_settings(session)
                    activated = billing.complete_checkout(
                        session, gateway, user=viewer.user, checkout_id=str(returned)
                    )
                    message = "Subscription active." if activated else None
                self._show(session, viewer.user, org_id)
        except NotAuthenticated:
            return self._to_login()
        except (DomainError, BillingUnavailable) as exc:
            return rx.toast.error(str(exc))
        return rx.toast.success(message) if message else None

    def _show(self, session: Session, user: User, org_id: int) -> None:
        view = billing.overview(session, user=user, organization_id=org_id)
        self.my_role = view.role
        self.test_mode = view.test_mode
        self.plan_name, self.plan_status = view.plan.name, view.plan_status
        self.plan_interval = INTERVAL_LABELS.get(view.plan_interval, "")
        self.renews_on = f"{view.renews_at:%d %b %Y}" if view.renews_at else ""
        self.link_limit = f"{view.plan.links:,}" if view.plan.links is not None else "unlimited"
        self.support_status = view.support_status
        self.seats_purchased, self.seats_used = view.seats_purchased, view.seats_used
        self.seats_pending = max(view.seats_purchased, view.min_seats)
        self.seats_error = ""

    @rx.event
    def subscribe_plan(self):
        plan_key, interval = self._choice()
        return self._go(
            lambda s, g, u, org: billing.start_checkout(
                s, g, user=u, organization_id=org, kind="plan", plan_key=plan_key, interval=interval
            )
        )

    @rx.event
    def subscribe_support(self):
        return self._go(
            lambda s, g, u, org: billing.start_checkout(
                s, g, user=u, organization_id=org, kind="support"
            )
        )

    @rx.event
    def manage_billing(self):
        return self._go(
            lambda s, g, u, org: billing.billing_portal(s, g, user=u, organization_id=org)
        )

    @rx.event
    def step_seats(self, delta: int):
        """The stepper only previews; bounds are rechecked by the service on Update."""
        self.seats_pending = max(self.min_seats, self.seats_pending + delta)
        self.seats_error = ""

    @rx.event
    def update_seats(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org_id = viewer.session.active_org_id or 0
                billing.change_seats(
                    session,
                    gateway_from_settings(session),
                    user=viewer.user,
                    organization_id=org_id,
                    seats_wanted=self.seats_pending,
                )
            with unit_of_work() as session:
                self._show(session, viewer.user, org_id)
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.seats_error = exc.errors.get("seats", exc.message)
            return
        except (DomainError, BillingUnavailable) as exc:
            return rx.toast.error(str(exc))
        return rx.toast.success(f"Seats updated to {self.seats_purchased}.")

    def _go(self, start: Callable[[Session, object, User, int], str]):
        """Run a service that returns a URL (Checkout, Portal) and open it."""
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                url = start(
                    session,
                    gateway_from_settings(session),
                    viewer.user,
                    viewer.session.active_org_id or 0,
                )
        except NotAuthenticated:
            return self._to_login()
        except (DomainError, BillingUnavailable) as exc:
            return rx.toast.error(str(exc))
        return navigate(url)


class TestCheckoutState(AppState):
    """/billing/test-checkout/[checkout_id]: test mode's stand-in for Stripe Checkout."""

    __test__ = False
    found: bool = False
    description: str = ""
    price: str = ""
    error: str = ""

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                checkout = billing.get_test_checkout(
                    session, user=viewer.user, checkout_id=self.checkout_id
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.found, self.error = False, exc.message
            return
        kind, plan_key, interval = plans.describe_price(checkout.price_id) or ("", "", "")
        if kind == "support":
            self.description = f"Support Subscription: {checkout.quantity} seats"
            self.price = f"{plans.pounds(checkout.quantity * plans.SEAT_PRICE_PENCE)} / month"
        else:
            plan = plans.PLANS[plan_key]
            per = "month" if interval == "monthly" else "year"
            self.description = f"{plan.name} plan, billed {INTERVAL_LABELS[interval].lower()}"
            self.price = f"{plans.pounds(plan.price_pence(interval))} / {per}"
        self.found, self.error = checkout.status == "open", ""
        if checkout.status != "open":
            self.error = "This checkout has already been completed."

    @rx.event
    def pay(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                url = billing.pay_test_checkout(
                    session,
                    TestModeBilling(session),
                    user=viewer.user,
                    checkout_id=self.checkout_id,
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            self.error = exc.message
            return
        return navigate(url)


class TestPortalState(PlanChoice, AppState):
    """/billing/test-portal: test mode's stand-in for the Stripe Customer Portal."""

    __test__ = False
    plan_name: str = ""
    plan_status: str = ""
    support_status: str = ""

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                view = billing.overview(
                    session, user=viewer.user, organization_id=viewer.session.active_org_id or 0
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.plan_name, self.plan_status = view.plan.name, view.plan_status
        self.support_status = view.support_status

    @rx.event
    def change_plan(self):
        plan_key, interval = self._choice()
        return self._act(
            lambda s, g, u, org: billing.test_mode_change_plan(
                s, g, user=u, organization_id=org, plan_key=plan_key, interval=interval
            ),
            f"Plan changed to {self.chosen_plan}.",
        )

    @rx.event
    def cancel(self, kind: str):
        return self._act(
            lambda s, g, u, org: billing.test_mode_cancel(
                s, g, user=u, organization_id=org, kind=kind
            ),
            "Subscription canceled.",
        )

    @rx.event
    def fail_payment(self):
        return self._act(
            lambda s, g, u, org: billing.test_mode_fail_payment(s, g, user=u, organization_id=org),
            "The renewal payment failed: the plan is now past due.",
        )

    def _act(self, action: Callable[[Session, TestModeBilling, User, int], None], done: str):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                action(
                    session,
                    TestModeBilling(session),
                    viewer.user,
                    viewer.session.active_org_id or 0,
                )
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [TestPortalState.load, rx.toast.success(done)]
