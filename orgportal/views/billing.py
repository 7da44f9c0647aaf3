"""The Organization Plan and Support Subscription cards (SPEC §5, §6)."""

import reflex as rx

from orgportal import routes
from orgportal.components.badges import status_badge
from orgportal.components.callouts import Look, either_callout
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import form_error, labelled_select
from orgportal.state.base import AppState
from orgportal.state.billing import (
    CANCELED,
    PLAN_OPTIONS,
    BillingState,
    PayerPage,
    PersonalPlanState,
    PlanSummaryState,
)
from orgportal.views.plan_table import change_summary, pricing_table

S = BillingState
CAN_MANAGE = AppState.caps.manage_billing  # decided by the services (Owner, Billing Admin)
LOCKED_FEATURES = ["Ticket Prefix", "Departments", "Agent Seats management"]


def _status_badge(status: rx.Var, badge_id: str) -> rx.Component:
    return status_badge(status, id=badge_id)


def _test_mode_badge() -> rx.Component:
    return rx.cond(S.test_mode, rx.badge("Test mode", color_scheme="amber", variant="outline"))


def _stat(label: str, value: rx.Var, stat_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="5", weight="bold", id=stat_id),
        spacing="0",
        aria_label=label,
    )


def plan_summary() -> rx.Component:
    """The overview's plan line; subscribing and seats live on the Billing sub-page."""
    summary = PlanSummaryState
    return rx.card(
        rx.hstack(
            rx.text("Plan: ", rx.text.strong(summary.plan_name, id="plan-summary-name")),
            rx.cond(
                summary.plan_status != "",
                _status_badge(summary.plan_status, "plan-summary-status"),
            ),
            rx.spacer(),
            rx.link("Billing", href=routes.ORG_BILLING, underline="always"),
            align="center",
            width="100%",
        ),
        role="region",
        aria_label="Plan summary",
        width="100%",
    )


def checkout_notice(state: type[PayerPage] = BillingState) -> rx.Component:
    """Back from Checkout: whether the subscription is active (or the checkout canceled), on
    the organization's Billing page or the Personal plan page."""
    return rx.fragment(
        rx.cond(
            state.checkout_notice != "",
            rx.callout(
                state.checkout_notice,
                icon="info",
                color_scheme=rx.cond(state.checkout_notice == CANCELED, "gray", "green"),
                high_contrast=True,
                role="status",
                width="100%",
            ),
        ),
        form_error(state.checkout_error),
    )


def plan_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Organization Plan", size="4"),
                rx.spacer(),
                _test_mode_badge(),
                width="100%",
            ),
            rx.hstack(
                rx.text("Current plan: ", rx.text.strong(S.plan_name, id="plan-name")),
                rx.cond(S.plan_status != "", _status_badge(S.plan_status, "plan-status")),
                rx.cond(
                    S.plan_interval != "", rx.text(S.plan_interval, size="2", color_scheme="gray")
                ),
                align="center",
            ),
            rx.text("Links: up to ", rx.text.span(S.link_limit, id="plan-link-limit"), size="2"),
            rx.cond(
                S.renews_on != "", rx.text("Renews on ", S.renews_on, size="2", id="plan-renews")
            ),
            rx.cond(
                S.plan_status == "past_due",
                rx.callout(
                    "The last payment failed. Update the payment method in Manage Billing.",
                    icon="triangle_alert",
                    color_scheme="orange",
                    role="alert",
                ),
            ),
            _comparison(),
            rx.cond(
                CAN_MANAGE,
                _plan_controls(),
                rx.text(
                    "An Owner or Billing Admin can change the plan.", size="1", color_scheme="gray"
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def _comparison() -> rx.Component:
    return rx.vstack(
        rx.heading("Compare plans", size="3", as_="h3"),
        pricing_table(),
        rx.text(
            "Members: the limit without support seats. With a Support Subscription, its seats "
            "set how many members the organization can have.",
            size="1",
            color_scheme="gray",
        ),
        spacing="2",
        width="100%",
    )


def _plan_controls() -> rx.Component:
    """Choose a plan and interval, read what it changes, then Subscribe (Checkout) or, on a
    paid plan, Change plan (confirmed, prorated by Stripe)."""
    subscribed = (S.plan_status != "") & (S.plan_status != "canceled")
    return rx.vstack(
        _plan_choice(S, ""),
        change_summary(),
        rx.cond(
            subscribed,
            rx.hstack(
                confirm_button(
                    "Change plan",
                    color=None,
                    disabled=S.chosen_change.kind == "current",
                    title="Change plan",
                    description=rx.text.span(S.change_confirmation, id="plan-change-confirm"),
                    confirm_label="Change plan",
                    on_confirm=S.change_plan,
                ),
                rx.button("Manage Billing", variant="soft", on_click=S.manage_billing),
                spacing="3",
                wrap="wrap",
            ),
            rx.button("Subscribe", on_click=S.subscribe_plan),
        ),
        width="100%",
    )


def _plan_chooser(state, prefix: str, *, on_subscribe) -> rx.Component:
    """Plan, billing interval, the price they cost, and Subscribe (organization or personal:
    `prefix` keeps the two sets of ids apart)."""
    return rx.hstack(
        _plan_choice(state, prefix),
        rx.button("Subscribe", on_click=on_subscribe),
        align="end",
        wrap="wrap",
    )


def _plan_choice(state, prefix: str) -> rx.Component:
    return rx.hstack(
        labelled_select(
            "Plan",
            f"{prefix}plan-select",
            PLAN_OPTIONS,
            value=state.chosen_plan,
            on_change=state.choose_plan,
        ),
        labelled_select(
            "Billing interval",
            f"{prefix}interval-select",
            ["Monthly", "Annual"],
            value=state.chosen_interval,
            on_change=state.choose_interval,
        ),
        rx.text(state.chosen_price, id=f"{prefix}plan-price", weight="medium"),
        align="end",
        wrap="wrap",
    )


def support_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Support Subscription", size="4"),
                rx.spacer(),
                rx.cond(S.support_status != "", _status_badge(S.support_status, "support-status")),
                width="100%",
            ),
            rx.text(
                rx.text.span(S.seat_price, id="seat-price"),
                " per seat per month; the owner's seat counts too.",
                size="2",
            ),
            rx.cond(S.support_active, _seats(), _locked()),
            rx.cond(
                S.member_limit_note != "",
                rx.hstack(
                    rx.icon("users", size=14, aria_hidden="true", flex_shrink="0"),
                    rx.text(S.member_limit_note, size="2", id="billing-member-limit"),
                    align="center",
                    spacing="2",
                ),
            ),
            width="100%",
        ),
        id="seats",  # "Add seats" in the seat-limit refusal on Members links here
        width="100%",
    )


def _seats() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _stat("Seats Purchased", S.seats_purchased, "seats-purchased"),
            _stat("Seats Used", S.seats_used, "seats-used"),
            _stat("Monthly Cost", S.monthly_cost, "monthly-cost"),
            spacing="6",
        ),
        rx.cond(CAN_MANAGE, _stepper()),
        width="100%",
    )


def _stepper() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon_button(
                rx.icon("minus"),
                aria_label="Fewer seats",
                variant="soft",
                disabled=S.seats_pending <= S.min_seats,
                on_click=S.step_seats(-1),
            ),
            rx.text(
                S.seats_pending,
                id="seats-pending",
                size="4",
                weight="bold",
                min_width="2em",
                align="center",
            ),
            rx.icon_button(
                rx.icon("plus"), aria_label="More seats", variant="soft", on_click=S.step_seats(1)
            ),
            rx.text(
                "New monthly cost: ", rx.text.strong(S.pending_cost, id="pending-cost"), size="2"
            ),
            confirm_button(
                "Update",
                color=None,
                disabled=S.seats_pending == S.seats_purchased,
                title="Change support seats",
                description=rx.text.span(S.seat_change, id="seat-change"),
                confirm_label="Update seats",
                on_confirm=S.update_seats,
            ),
            align="center",
        ),
        rx.cond(
            S.seats_error != "", rx.text(S.seats_error, color_scheme="red", size="1", role="alert")
        ),
        rx.text("Stripe prorates the change on the next invoice.", size="1", color_scheme="gray"),
    )


def _locked() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("lock", size=14),
            rx.text(
                "Unlocks " + ", ".join(LOCKED_FEATURES[:-1]) + " and " + LOCKED_FEATURES[-1] + ".",
                size="2",
            ),
            aria_label="Support features (locked)",
        ),
        rx.cond(
            CAN_MANAGE,
            _support_checkout(),
            rx.text("An Owner or Billing Admin can subscribe.", size="1", color_scheme="gray"),
        ),
    )


def _support_checkout() -> rx.Component:
    """The seat count first, on a stepper that cannot go below Seats Used (nor 1); what it
    costs and the member limit it sets are said before paying."""
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.el.label(
                    "Seats",
                    html_for="support-seats",
                    class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                ),
                rx.hstack(
                    rx.icon_button(
                        rx.icon("minus"),
                        aria_label="Fewer support seats",
                        variant="soft",
                        disabled=S.support_seats <= S.min_seats,
                        on_click=S.step_support_seats(-1),
                    ),
                    rx.input(
                        id="support-seats",
                        type="number",
                        min=S.min_seats,
                        max=1000,
                        value=S.support_seats,
                        on_change=S.set_support_seats,
                        width="6em",
                        aria_describedby="support-seats-help support-seats-problem",
                        aria_invalid=rx.cond(S.support_seats_problem != "", "true", "false"),
                    ),
                    rx.icon_button(
                        rx.icon("plus"),
                        aria_label="More support seats",
                        variant="soft",
                        disabled=S.support_seats >= 1000,
                        on_click=S.step_support_seats(1),
                    ),
                    align="center",
                    spacing="2",
                ),
                spacing="1",
            ),
            rx.text("Monthly cost: ", rx.text.strong(S.support_cost, id="support-cost"), size="2"),
            rx.button("Subscribe to Support", on_click=S.subscribe_support),
            align="end",
            wrap="wrap",
        ),
        rx.text(
            rx.cond(S.support_seats_problem != "", S.support_seats_problem, S.seats_error),
            color_scheme="red",
            size="1",
            role="alert",
            id="support-seats-problem",
            display=rx.cond(
                (S.support_seats_problem != "") | (S.seats_error != ""), "block", "none"
            ),
        ),
        rx.text(
            "At least ",
            S.min_seats,
            " (Seats Used). The seats set how many members the organization can have.",
            size="1",
            color_scheme="gray",
            id="support-seats-help",
        ),
        rx.cond(
            S.support_limit_summary != "",
            either_callout(
                S.support_limit_lower,
                S.support_limit_summary,
                Look("triangle_alert", "orange", "status"),
                Look("users", "indigo", "status"),
                high_contrast=True,
                id="support-limit-summary",
            ),
        ),
        width="100%",
    )


def personal_plan_card() -> rx.Component:
    """/account's Plan section: which plan is in effect and why, and the user's own plan."""
    P = PersonalPlanState
    subscribe = _plan_chooser(P, "personal-", on_subscribe=P.subscribe_plan)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Plan", size="4", id="plan-heading"),
                rx.spacer(),
                rx.cond(
                    P.personal_test_mode,
                    rx.badge("Test mode", color_scheme="amber", variant="outline"),
                ),
                width="100%",
            ),
            rx.text(P.personal_source, weight="medium", id="personal-plan-source"),
            checkout_notice(P),
            rx.cond(
                P.personal_status != "",
                rx.hstack(
                    rx.text("Your own subscription: "),
                    _status_badge(P.personal_status, "personal-plan-status"),
                    rx.cond(
                        P.personal_interval != "",
                        rx.text(P.personal_interval, size="2", color_scheme="gray"),
                    ),
                    rx.cond(
                        P.personal_renews_on != "",
                        rx.text("Renews on ", P.personal_renews_on, size="2"),
                    ),
                    align="center",
                ),
            ),
            rx.text(
                "A personal plan sets the limits of your Personal Workspace; "
                "organizations keep their own plans.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                P.personal_active,
                rx.button("Manage Billing", variant="soft", on_click=P.manage_billing),
                subscribe,
            ),
            width="100%",
        ),
        role="region",
        aria_labelledby="plan-heading",
        width="100%",
    )
