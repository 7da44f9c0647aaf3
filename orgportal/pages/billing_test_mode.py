"""Test-mode billing pages: the in-app stand-ins for Stripe Checkout and the Customer Portal.

Shown only when no Stripe key is configured; their buttons drive the same activation and
event-handling code as Stripe's webhooks (services/billing/webhooks.py).
"""

import reflex as rx

from orgportal import routes
from orgportal.components.forms import form_error, labelled_select
from orgportal.components.layout import centered_card
from orgportal.state.billing import PLAN_OPTIONS, TestCheckoutState, TestPortalState

NO_CHARGE = "no card is charged"


def test_checkout_page() -> rx.Component:
    S = TestCheckoutState
    return centered_card(
        rx.heading(f"Test checkout — {NO_CHARGE}", size="5"),
        rx.callout(
            "Billing runs in test mode because no Stripe key is configured.",
            icon="info",
            color_scheme="amber",
        ),
        form_error(S.error),
        rx.cond(
            S.found,
            rx.vstack(
                rx.text(S.description, weight="medium", id="checkout-description"),
                rx.text(S.price, size="5", weight="bold", id="checkout-price"),
                rx.hstack(
                    rx.button("Pay", on_click=S.pay),
                    rx.button(
                        rx.link("Cancel", href=S.back_href + "?checkout=canceled"),
                        variant="soft",
                        as_child=True,  # one link styled as a button, not a button in a link
                    ),
                ),
                spacing="3",
            ),
            rx.link("Back", href=S.back_href),
        ),
    )


def test_portal_page() -> rx.Component:
    S = TestPortalState
    return centered_card(
        rx.heading(f"Test billing portal — {NO_CHARGE}", size="5"),
        rx.text(
            "Current plan: ", rx.text.strong(S.plan_name, id="portal-plan"), " ", S.plan_status
        ),
        rx.cond(
            S.plan_status != "",
            rx.vstack(
                rx.hstack(
                    labelled_select(
                        "Plan",
                        "portal-plan-select",
                        PLAN_OPTIONS,
                        value=S.chosen_plan,
                        on_change=S.choose_plan,
                    ),
                    labelled_select(
                        "Billing interval",
                        "portal-interval-select",
                        ["Monthly", "Annual"],
                        value=S.chosen_interval,
                        on_change=S.choose_interval,
                    ),
                    rx.button("Change plan", on_click=S.change_plan),
                    align="end",
                ),
                rx.hstack(
                    rx.button(
                        "Cancel plan", color_scheme="red", variant="soft", on_click=S.cancel("plan")
                    ),
                    rx.button("Simulate failed payment", variant="soft", on_click=S.fail_payment),
                ),
                spacing="3",
            ),
        ),
        rx.cond(
            S.support_status == "active",
            rx.button(
                "Cancel support subscription",
                color_scheme="red",
                variant="soft",
                on_click=S.cancel("support"),
            ),
        ),
        rx.cond(
            S.personal,
            rx.link("Return to Account", href=routes.ACCOUNT_PLAN),
            rx.link("Return to Billing", href=routes.ORG_BILLING),
        ),
    )
