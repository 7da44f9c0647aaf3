"""The Billing page's plan comparison (SPEC §6): every plan side by side with the current
one marked, and, for who may buy, what the chosen plan would change before Checkout."""

import reflex as rx

from orgportal import styles
from orgportal.components.layout import VISUALLY_HIDDEN
from orgportal.services import plans
from orgportal.state.billing import BillingState as S
from orgportal.state.plan_table import PlanColumn, PricingRowView

FEATURE = "Feature"
LIST = {"margin": "0.25em 0", "padding_left": "1.25em", "list_style": "disc"}


def _header(column: PlanColumn) -> rx.Component:
    return rx.table.column_header_cell(
        rx.hstack(
            rx.text(column.name),
            rx.cond(
                column.current,
                rx.badge("Current plan", color_scheme="green", variant="soft"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        aria_current=rx.cond(column.current, "true", None),
        scope="col",
    )


def _row(row: PricingRowView) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.label, scope="row"),
        rx.foreach(row.cells, lambda value: rx.table.cell(value)),
    )


def _table_props() -> dict:
    """`styles.table` with the plans as the cells' labels on a phone, where the row's
    header cell (the feature) becomes the block's title line."""
    props = styles.table([plan.name for plan in plans.ALL])
    phone = dict(props["style"][styles.PHONE])
    phone["& tbody th"] = {"display": "block", "font_weight": "600", "padding": "0.2em 0"}
    # every value here is a short word or figure: a column is never narrower than its
    # longest word, so none breaks mid-word ("Availabl/e")
    props["style"] = {**props["style"], "& td": {"overflow_wrap": "normal"}, styles.PHONE: phone}
    return props


def pricing_table() -> rx.Component:
    """A table on a wide screen; on a phone each feature is a block with a line per plan
    (the column names come from `styles.table`)."""
    return rx.table.root(
        rx.el.caption("Plan comparison", style=VISUALLY_HIDDEN),  # the table's name
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(FEATURE, scope="col"),
                rx.foreach(S.plan_columns, _header),
            )
        ),
        rx.table.body(rx.foreach(S.pricing_rows, _row)),
        id="pricing-table",
        size="1",
        **_table_props(),
    )


def _line(text: rx.Var) -> rx.Component:
    return rx.el.li(text)


def change_summary() -> rx.Component:
    """What the chosen plan and interval change: limits before → after, what a downgrade
    leaves over a limit, and the new charge. Computed by `services/plan_changes.py`."""
    change = S.chosen_change
    return rx.cond(
        change.kind != "",
        rx.box(
            rx.text(change.headline, weight="bold", id="plan-change-headline"),
            rx.cond(
                change.changes.length() > 0,
                rx.el.ul(rx.foreach(change.changes, _line), id="plan-change-lines", style=LIST),
            ),
            rx.cond(
                change.stops.length() > 0,
                rx.fragment(
                    rx.text("Over the new limits:", weight="medium", size="2"),
                    rx.el.ul(rx.foreach(change.stops, _line), id="plan-change-stops", style=LIST),
                ),
            ),
            rx.cond(change.billing != "", rx.text(change.billing, id="plan-change-billing")),
            role="status",
            id="plan-change",
            width="100%",
            padding="0.75em 1em",
            border_radius="var(--radius-3)",
            background=rx.cond(change.kind == "downgrade", "var(--orange-a3)", "var(--accent-a3)"),
        ),
    )
