"""The Organization Plan and Support Subscription cards, the Personal plan section of
/account, and the test-mode billing pages.

One payer per page (`PayerActions._organization`: the active organization, or None for the
user's own plan); the organization's page and the personal one share Subscribe, Manage
Billing and the notice back from Checkout (`PayerPage`). Every handler runs its use case
through `AppState._run`; the services choose the payment gateway and turn its refusals into
DomainErrors; what a viewer may do comes from `AppState.caps` (the services decide it).
"""

from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlsplit

import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.config import settings
from orgportal.services import billing, plan_changes, plans, seats
from orgportal.services.accounts import Viewer
from orgportal.services.errors import DomainError
from orgportal.services.plan_changes import Standing
from orgportal.state import plan_table
from orgportal.state.base import AppState, navigate
from orgportal.state.outcome import Form
from orgportal.state.plan_table import NO_CHANGE, PlanChangeView, PlanColumn, PricingRowView
from orgportal.wording import count

PLAN_OPTIONS = [plan.name for plan in plans.PAID]
PLAN_KEY_BY_NAME = {plan.name: plan.key for plan in plans.PAID}
INTERVAL_LABELS = {"monthly": "Monthly", "annual": "Annual"}
INTERVAL_BY_LABEL = {label: key for key, label in INTERVAL_LABELS.items()}
ACTIVATED = "Subscription active."
PAID_PENDING = "Payment received: the subscription starts as soon as Stripe confirms it."
CANCELED = "Checkout canceled: nothing was charged."


def seats_label(seats: int) -> str:
    """The count with its noun: "1 seat", "3 seats"."""
    return count(seats, "seat")


def configured_seat_price() -> int:
    """The price of one support seat per month, as configured (SEAT_PRICE_PENCE)."""
    return settings.seat_price_pence


def _open(state: AppState, start: Callable[[Session, Viewer], str], **run_options):
    """Run a use case that answers with a URL (Checkout, Portal, back from the test
    checkout) and open it: a full page load."""
    outcome = state._attempt(start, **run_options)
    return navigate(outcome.value) if outcome.ok else outcome.events


class PlanChoice(rx.State, mixin=True):
    """The plan selector and billing interval, as on the Plan card and the test portal."""

    chosen_plan: str = PLAN_OPTIONS[0]
    chosen_interval: str = "Monthly"

    @rx.var
    def chosen_price(self) -> str:
        plan = plans.PLANS[PLAN_KEY_BY_NAME.get(self.chosen_plan, "starter")]
        interval = INTERVAL_BY_LABEL.get(self.chosen_interval, "monthly")
        per = "month" if interval == "monthly" else "year"
        return f"{plans.pounds(plan.price_pence(interval))} / {per}"

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


class PayerActions(PlanChoice, mixin=True):
    """A page that bills one payer: `_organization` names it (the active organization; None
    for the user's own plan), `_billing` runs a use case for it."""

    def _organization(self, viewer: Viewer) -> int | None:
        raise NotImplementedError

    def _billing(self, use_case: Callable[..., object], **arguments):
        """An action for `_run`: a billing use case for this page's payer. The service
        chooses the payment gateway and turns its refusals into DomainErrors."""

        def action(session: Session, viewer: Viewer) -> object:
            organization_id = self._organization(viewer)
            return use_case(session, user=viewer.user, organization_id=organization_id, **arguments)

        return action


class PayerPage(PayerActions, mixin=True):
    """What the organization's Billing page and the Personal plan page share: Subscribe,
    Manage Billing, and the notice back from Checkout."""

    checkout_notice: str = ""  # back from Checkout: activated, pending or canceled
    checkout_error: str = ""
    _checkout_activated: str = ""  # the Checkout session this tab already completed

    def _back_from_checkout(self, session: Session, viewer: Viewer) -> None:
        """Back from Checkout (`?checkout=success&session_id=…`) the subscription is
        activated at once, in case Stripe's webhook is late; nothing again on every reload
        of the tab that already completed it."""
        query = self._page_query()
        outcome, checkout_id = query.get("checkout", ""), str(query.get("session_id", ""))
        if outcome == "success" and checkout_id and checkout_id == self._checkout_activated:
            return
        self.checkout_notice = CANCELED if outcome == "canceled" else ""
        self.checkout_error = ""
        if outcome != "success" or not checkout_id:
            return
        try:
            activated = billing.complete_checkout(
                session, user=viewer.user, checkout_id=checkout_id
            )
        except DomainError as exc:
            self.checkout_error = exc.message
            return
        self.checkout_notice = ACTIVATED if activated else PAID_PENDING
        self._checkout_activated = checkout_id if activated else ""

    @rx.event
    def subscribe_plan(self):
        plan_key, interval = self._choice()
        action = self._billing(billing.start_checkout, plan_key=plan_key, interval=interval)
        return _open(self, action, reload=False)

    @rx.event
    def manage_billing(self):
        return _open(self, self._billing(billing.billing_portal), reload=False)


class PlanSummaryState(AppState):
    """The overview's plan line (the Billing sub-page holds the rest: `BillingState`)."""

    plan_name: str = "Free"
    plan_status: str = ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id:
            self.plan_name, self.plan_status = "Free", ""
            return
        summary = billing.plan_summary(session, user=viewer.user, organization_id=org_id)
        self.plan_name, self.plan_status = summary.name, summary.status


class BillingState(PayerPage, AppState):
    """The Billing sub-page: plan, support seats, plan changes."""

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
    support_seats: int = 1  # the seat count asked before Subscribe to Support
    plan_member_limit: int = -1  # the plan's member limit today (-1: unlimited)
    plan_key: str = "free"
    member_limit_note: str = ""  # "Members are limited by your 6 support seats (…)."
    # The plan comparison (SPEC §6): everyone sees the table; what a change would do is
    # said to who may buy (Owner, Billing Admin) only. Both follow from the plan, the
    # settings and, for the change, the organization's standing read on load: computed
    # when sent (`plan_columns`, `pricing_rows`, `chosen_change`), never the tables or the
    # eight summaries stored with the tab's state.
    plan_table_shown: bool = False
    _standing: Standing | None = None  # who may buy only
    seat_price_pence: int = settings.seat_price_pence
    monthly_cost: str = ""
    seats_errors: dict[str, str] = {}
    SEATS_FORM: ClassVar[Form] = Form(errors="seats_errors", general="seats")

    @rx.var(cache=False)
    def plan_columns(self) -> list[PlanColumn]:
        return plan_table.columns(self.plan_key) if self.plan_table_shown else []

    @rx.var(cache=False)
    def pricing_rows(self) -> list[PricingRowView]:
        return plan_table.rows() if self.plan_table_shown else []

    @rx.var
    def support_active(self) -> bool:
        return self.support_status in plans.ENTITLED_STATUSES

    @rx.var
    def min_seats(self) -> int:
        return max(1, self.seats_used)

    @rx.var
    def seat_price(self) -> str:
        return plans.pounds(self.seat_price_pence)

    @rx.var
    def pending_cost(self) -> str:
        return plans.pounds(self.seats_pending * self.seat_price_pence)

    @rx.var
    def seat_change(self) -> str:
        """What Update will do, said before it is done (its confirmation dialog)."""
        cost = plans.pounds(self.seats_pending * self.seat_price_pence)
        return (
            f"Your support subscription changes from {self.seats_purchased} to "
            f"{seats_label(self.seats_pending)}: {cost} a month from now on (prorated)."
        )

    @rx.var
    def chosen_change(self) -> PlanChangeView:
        """What the chosen plan and interval would change, said before Checkout or Change."""
        plan_key = PLAN_KEY_BY_NAME.get(self.chosen_plan, "")
        interval = INTERVAL_BY_LABEL.get(self.chosen_interval, "")
        if self._standing is None or not plan_key or not interval:
            return NO_CHANGE
        return plan_table.change(plan_changes.summarize(self._standing, plan_key, interval))

    @rx.var
    def change_confirmation(self) -> str:
        """The Change plan dialog: the headline, what is left over the limits, the charge."""
        change = self.chosen_change
        return " ".join([f"{change.headline}.", *change.stops, change.billing])

    @rx.var
    def support_seats_problem(self) -> str:
        """Why the Support checkout's seat count cannot be bought, as it is typed (the
        service refuses it with the same words)."""
        return seats.seat_count_problem(self.support_seats, self.seats_used)

    @rx.var
    def support_cost(self) -> str:
        if seats.seat_count_problem(self.support_seats, self.seats_used):
            return "—"
        return plans.pounds(self.support_seats * self.seat_price_pence)

    @rx.var
    def support_limit_summary(self) -> str:
        """Before paying: the seats become the member limit ("Your member limit becomes 6")."""
        if seats.seat_count_problem(self.support_seats, self.seats_used):
            return ""
        return seats.limit_after_support(
            self.support_seats, plans.PLANS.get(self.plan_key, plans.FREE)
        )

    @rx.var
    def support_limit_lower(self) -> bool:
        """The seats would lower the member limit: the summary is shown as a warning."""
        return 0 <= self.support_seats < self.plan_member_limit

    @rx.var
    def seats_error(self) -> str:
        return "; ".join(self.seats_errors.values())

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The cards; back from Checkout (`?checkout=success&session_id=…`) the subscription
        is activated at once, in case Stripe's webhook is late."""
        self.seat_price_pence = configured_seat_price()
        self.seats_errors = {}
        org_id = viewer.session.active_org_id
        if not org_id:
            self._clear()
            return
        self._back_from_checkout(session, viewer)
        view = billing.overview(session, user=viewer.user, organization_id=org_id)
        self.test_mode = view.test_mode
        self.plan_name, self.plan_status = view.plan.name, view.plan_status
        self.plan_interval = INTERVAL_LABELS.get(view.plan_interval, "")
        self.renews_on = formatting.date(view.renews_at)
        self.link_limit = f"{view.plan.links:,}" if view.plan.links is not None else "unlimited"
        self.support_status = view.support_status
        self.seats_purchased, self.seats_used = view.seats_purchased, view.seats_used
        self.seats_pending = max(view.seats_purchased, view.min_seats)
        self.support_seats = view.min_seats
        self.plan_member_limit = view.plan.members if view.plan.members is not None else -1
        self.monthly_cost = plans.pounds(view.seats_purchased * self.seat_price_pence)
        self.plan_key = view.plan.key
        self.member_limit_note = view.member_limit.sentence
        self.plan_table_shown = True
        self._standing = (
            plan_changes.standing_to_buy(session, user=viewer.user, organization_id=org_id)
            if self.caps.manage_billing
            else None
        )

    def _organization(self, viewer: Viewer) -> int | None:
        return viewer.session.active_org_id or 0  # none: the service refuses (not found)

    def _clear(self) -> None:
        self.plan_name, self.plan_status, self.plan_interval = "Free", "", ""
        self.renews_on = self.link_limit = self.support_status = self.monthly_cost = ""
        self.seats_purchased = self.seats_used = 0
        self.seats_pending = self.support_seats = 1
        self.plan_member_limit = -1
        self.checkout_notice = self.checkout_error = ""
        self.plan_key, self.member_limit_note = "free", ""
        self.plan_table_shown, self._standing = False, None

    @rx.event
    def change_plan(self):
        """Switch the active subscription to the chosen plan and interval (after the
        confirmation that shows `chosen_change`)."""
        plan_key, interval = self._choice()
        return self._run(
            self._billing(billing.change_plan, plan_key=plan_key, interval=interval),
            done=f"Plan changed to {self.chosen_plan}, billed {plan_changes.BILLED.get(interval, interval)}.",
        )

    @rx.event
    def set_support_seats(self, value: str):
        """The seat count field; a count that cannot be bought is said beside it at once
        (`support_seats_problem`), and the service refuses it on Subscribe."""
        try:
            self.support_seats = max(0, min(billing.MAX_SEATS + 1, int(str(value).strip())))
        except ValueError:
            self.support_seats = 0
        self.seats_errors = {}

    @rx.event
    def step_support_seats(self, delta: int):
        """The Support checkout's − / +: never below the minimum (Seats Used, at least 1)."""
        wanted = self.support_seats + delta
        self.support_seats = max(self.min_seats, min(billing.MAX_SEATS, wanted))
        self.seats_errors = {}

    @rx.event
    def subscribe_support(self):
        action = self._billing(billing.start_checkout, kind="support", quantity=self.support_seats)
        return _open(self, action, reload=False, form=self.SEATS_FORM)

    @rx.event
    def step_seats(self, delta: int):
        """The stepper only previews; bounds are rechecked by the service on Update."""
        self.seats_pending = max(self.min_seats, self.seats_pending + delta)
        self.seats_errors = {}

    @rx.event
    def update_seats(self):
        wanted = self.seats_pending
        return self._run(
            self._billing(billing.change_seats, seats_wanted=wanted),
            form=self.SEATS_FORM,
            done=f"Seats updated to {wanted}.",
        )


class PersonalPlanState(PayerPage, AppState):
    """The "Plan" section of /account: the user's own plan and which plan is in effect."""

    refused_by_organization: ClassVar[bool] = False  # the account itself (AppState)

    personal_source: str = "Your plan: Free"
    personal_status: str = ""
    personal_interval: str = ""
    personal_renews_on: str = ""
    personal_test_mode: bool = True

    @rx.var
    def personal_active(self) -> bool:
        return self.personal_status in plans.ENTITLED_STATUSES

    def _load(self, session: Session, viewer: Viewer) -> None:
        self._back_from_checkout(session, viewer)
        view = billing.personal_overview(session, user=viewer.user)
        self.personal_source, self.personal_status = view.source, view.status
        self.personal_interval = INTERVAL_LABELS.get(view.interval, "")
        self.personal_renews_on = formatting.date(view.renews_at)
        self.personal_test_mode = view.test_mode

    def _organization(self, viewer: Viewer) -> int | None:
        return None  # the user's own plan


class TestCheckoutState(AppState):
    """/billing/test-checkout/[checkout_id]: test mode's stand-in for Stripe Checkout."""

    __test__ = False
    found: bool = False
    description: str = ""
    price: str = ""
    errors: dict[str, str] = {}
    CHECKOUT_FORM: ClassVar[Form] = Form(errors="errors", general="checkout")
    # Where Cancel and Back lead: the page that started the checkout (Billing or Account).
    back_href: str = routes.ORG_BILLING

    @rx.var
    def error(self) -> str:
        return "; ".join(self.errors.values())

    def _load(self, session: Session, viewer: Viewer) -> None:
        self.found, self.description, self.price, self.errors = False, "", "", {}
        try:
            checkout = billing.get_test_checkout(
                session, user=viewer.user, checkout_id=self.checkout_id
            )
        except DomainError as exc:
            self.errors = {"checkout": exc.message}
            return
        self.back_href = _path_of(checkout.cancel_url)
        if checkout.status != "open":
            self.errors = {"checkout": "This checkout has already been completed."}
            return
        kind, plan_key, interval = plans.describe_price(checkout.price_id) or ("", "", "")
        if kind == "support":
            self.description = f"Support Subscription: {seats_label(checkout.quantity)}"
            self.price = f"{plans.pounds(checkout.quantity * configured_seat_price())} / month"
        else:
            plan = plans.PLANS[plan_key]
            per = "month" if interval == "monthly" else "year"
            self.description = f"{plan.name} plan, billed {plan_changes.BILLED[interval]}"
            self.price = f"{plans.pounds(plan.price_pence(interval))} / {per}"
        self.found = True

    @rx.event
    def pay(self):
        checkout_id = self.checkout_id
        return _open(
            self,
            lambda session, viewer: billing.pay_test_checkout(
                session, user=viewer.user, checkout_id=checkout_id
            ),
            form=self.CHECKOUT_FORM,
            reload=False,
        )


class TestPortalState(PayerActions, AppState):
    """/billing/test-portal: test mode's stand-in for the Stripe Customer Portal."""

    __test__ = False
    plan_name: str = ""
    plan_status: str = ""
    support_status: str = ""
    personal: bool = False  # the user's own plan (from /account, or the Personal Workspace)

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The active organization's subscriptions; the user's own from /account (`?personal=1`)
        or in the Personal Workspace."""
        org_id = viewer.session.active_org_id
        self.support_status = ""
        self.personal = not org_id or self._page_query().get("personal") == "1"
        if self.personal:
            own = billing.personal_overview(session, user=viewer.user)
            self.plan_name = own.plan.name if own.own_active else ""
            self.plan_status = own.status if own.own_active else ""
            return
        view = billing.overview(session, user=viewer.user, organization_id=org_id)
        self.plan_name, self.plan_status = view.plan.name, view.plan_status
        self.support_status = view.support_status

    def _organization(self, viewer: Viewer) -> int | None:
        return None if self.personal else viewer.session.active_org_id or 0

    @rx.event
    def change_plan(self):
        plan_key, interval = self._choice()
        return self._run(
            self._billing(billing.test_mode_change_plan, plan_key=plan_key, interval=interval),
            done=f"Plan changed to {self.chosen_plan}.",
        )

    @rx.event
    def cancel(self, kind: str):
        return self._run(
            self._billing(billing.test_mode_cancel, kind=kind), done="Subscription canceled."
        )

    @rx.event
    def fail_payment(self):
        return self._run(
            self._billing(billing.test_mode_fail_payment),
            done="The renewal payment failed: the plan is now past due.",
        )


def _path_of(url: str) -> str:
    """A checkout's return URL as a same-site link: only its path, never another host."""
    return urlsplit(url).path or routes.ORG_BILLING
