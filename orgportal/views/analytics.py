"""The analytics sections: filters, totals, the daily chart (and its numbers as a table),
top links and projects, referrers, browsers, systems, devices and countries."""

import reflex as rx
from reflex_base.components.component import NoSSRComponent
from reflex_components_recharts.cartesian import Bar, CartesianGrid, XAxis, YAxis
from reflex_components_recharts.charts import BarChart, ChartBase
from reflex_components_recharts.general import GraphingTooltip, Legend, ResponsiveContainer

from orgportal import styles
from orgportal.components.forms import form_error, labelled_select, text_field
from orgportal.state.analytics import AnalyticsState, DayRow, FigureRow
from orgportal.state.base import AppState

S = AnalyticsState
# Read by screen readers, not shown (the card's heading shows the same words).
HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}


def filters_card() -> rx.Component:
    return rx.card(
        rx.flex(
            labelled_select("Period", "analytics-range", S.range_labels,
                            value=S.range_label, on_change=S.set_range),
            labelled_select("Project", "analytics-project", S.project_filters,
                            value=S.project_filter, on_change=S.set_project_filter),
            rx.form(
                rx.hstack(
                    rx.box(
                        text_field("Link (short link slug)", "link", S.link_errors,
                                   default_value=S.link_filter, placeholder="spring-sale"),
                        min_width="14em",
                    ),
                    rx.button("Show link", type="submit", variant="soft"),
                    rx.cond(S.link_filter != "",
                            rx.button("All links", type="button", variant="ghost",
                                      on_click=S.clear_link_filter)),
                    align="end",
                ),
                on_submit=S.filter_link,
                key=S.link_form_key.to_string() + S.link_filter,
            ),
            rx.spacer(),
            rx.button(rx.icon("download", size=16, aria_hidden="true"), "Export CSV",
                      on_click=S.export_csv, variant="outline"),
            gap="4",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _total(label: str, value, test_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.text(value, size="6", weight="bold", id=test_id),
            spacing="1",
        ),
        flex="1",
        min_width="9em",
    )


def totals() -> rx.Component:
    return rx.flex(
        _total("Clicks", S.clicks, "analytics-clicks"),
        _total("Conversions", S.conversions, "analytics-conversions"),
        _total("Conversion rate", S.conversion_rate, "analytics-rate"),
        _total("Conversion value", S.conversion_value, "analytics-value"),
        _total("Bot visits (not counted)", S.bots, "analytics-bots"),
        gap="3",
        wrap="wrap",
        width="100%",
        aria_live="polite",
    )


def _day_row(row: DayRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.date), rx.table.cell(row.clicks), rx.table.cell(row.conversions),
        rx.table.cell(row.bots),
    )  # fmt: skip


DAY_HEADERS = ["Day", "Clicks", "Conversions", "Bot visits"]


def _lazy(component: type[rx.Component]) -> type[rx.Component]:
    """The recharts part, imported when the chart mounts (like the chart itself), not with
    the page: otherwise its static import puts all of recharts (430 KB) in the page's own
    script, which must load before the page works. Same class name: the chart accepts its
    parts by name."""
    return type(component.__name__, (NoSSRComponent, component), {"__module__": __name__})


_Grid, _XAxis, _YAxis = _lazy(CartesianGrid), _lazy(XAxis), _lazy(YAxis)
_Tooltip, _Legend, _Bar = _lazy(GraphingTooltip), _lazy(Legend), _lazy(Bar)
_Responsive = _lazy(ResponsiveContainer)


def _bar_chart(*parts: rx.Component, data, height: int) -> rx.Component:
    """`rx.recharts.bar_chart(..., width="100%")`, with its responsive container lazy too
    (`bar_chart` always wraps the chart in a statically imported one)."""
    chart = super(ChartBase, BarChart).create(*parts, data=data)  # the chart alone
    return _Responsive.create(chart, width="100%", height=height, min_width=10, min_height=10)


def chart_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Clicks over time", size="4"),
            rx.text(S.period, size="2", color_scheme="gray"),
            rx.box(
                # Mounted once the page's data is there: mounting it imports recharts
                # (380 KB), which the browser then compiles and runs in one long task; at
                # hydration that task came before the totals' data and held them back.
                rx.cond(AppState.page_ready, _bar_chart(
                    _Grid.create(stroke_dasharray="3 3", vertical=False),
                    _XAxis.create(data_key="day"),
                    _YAxis.create(allow_decimals=False, width=40),
                    _Tooltip.create(),
                    _Legend.create(),
                    _Bar.create(data_key="Clicks", fill="var(--indigo-9)",
                                is_animation_active=False),
                    _Bar.create(data_key="Conversions", fill="var(--grass-9)",
                                is_animation_active=False),
                    data=S.series,
                    height=260,
                )),
                role="figure",
                aria_label=S.chart_label,
                id="analytics-chart",
                width="100%",
            ),
            rx.el.details(
                rx.el.summary("Clicks per day as a table", style={"cursor": "pointer"}),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h) for h in DAY_HEADERS])),
                    rx.table.body(rx.foreach(S.day_rows, _day_row)),
                    **styles.table(DAY_HEADERS),
                ),
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _rate_row(row: FigureRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.label), rx.table.cell(row.clicks), rx.table.cell(row.conversions),
        rx.table.cell(row.rate),
    )  # fmt: skip


def _share_row(row: FigureRow) -> rx.Component:
    return rx.table.row(rx.table.cell(row.label), rx.table.cell(row.clicks),
                        rx.table.cell(row.share))  # fmt: skip


def figure_table(title: str, rows, first: str, with_rates: bool) -> rx.Component:
    headers = [first, "Clicks", "Conversions", "Rate"] if with_rates else [first, "Clicks", "Share"]
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.cond(
                rows.length() > 0,
                rx.table.root(
                    rx.el.caption(title, style=HIDDEN),  # the table's name for screen readers
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
                    ),
                    rx.table.body(rx.foreach(rows, _rate_row if with_rates else _share_row)),
                    **styles.table(headers),
                ),
                rx.text("No clicks in this period.", color_scheme="gray", size="2"),
            ),
            width="100%",
        ),
        width="100%",
    )


def figures_grid() -> rx.Component:
    return rx.grid(
        figure_table("Top links", S.top_links, "Link", True),
        figure_table("Top projects", S.top_projects, "Project", True),
        figure_table("Top referrers", S.referrers, "Referrer", False),
        figure_table("Browsers", S.browsers, "Browser", False),
        figure_table("Operating systems", S.systems, "System", False),
        figure_table("Devices", S.devices, "Device", False),
        figure_table("Countries", S.countries, "Country", False),
        columns=rx.breakpoints(initial="1", md="2"),
        gap="3",
        width="100%",
    )


def analytics_body() -> rx.Component:
    return rx.vstack(
        filters_card(),
        form_error(S.error),
        totals(),
        chart_card(),
        figures_grid(),
        spacing="4",
        width="100%",
    )
