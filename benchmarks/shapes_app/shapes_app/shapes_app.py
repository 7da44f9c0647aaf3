"""What a page's components cost the browser, without any app around them
(`benchmarks/page_load.py --shapes`).

The same twelve-row table of short links, shown once the page's load event has filled one
state var (as orgportal's pages show their content once `page_ready`), built three ways:

- /heavy: as orgportal's /links builds a row: Radix Themes layout and text components with
  style props (`rx.vstack`, `rx.text`, `rx.badge`, `rx.table.*`…), a switch and a
  confirmation dialog per row;
- /medium: the same without the switch and the dialog (only a button);
- /light: the same cells as plain elements (`rx.el.*`) with static class names (Radix
  Themes' own), no style props, no per-row dialog.

/bare is the page-load floor (`benchmarks/floor_app`'s /bare): one state var.
"""

import reflex as rx
from reflex.vars.base import Var

HEADERS = ["Short link", "Clicks", "Project", "Created", "Actions"]


class ShapeState(rx.State):
    ready: bool = False
    greeting: str = ""
    rows: list[dict[str, str]] = []

    @rx.event
    def load(self):
        self.rows = [
            {
                "slug": f"link-{i}",
                "url": f"https://example.com/landing/{i}?utm=x",
                "clicks": str(7 * i),
            }
            for i in range(12)
        ]
        self.ready = True

    @rx.event
    def load_bare(self):
        self.greeting = "Hello"


def _cells(row, actions: rx.Component) -> list[rx.Component]:
    return [
        rx.table.cell(
            rx.vstack(
                rx.link(row["slug"], href="#", weight="medium"),
                rx.text(
                    row["url"], size="1", color_scheme="gray", style={"word_break": "break-all"}
                ),
                spacing="1",
                width="100%",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.icon("mouse-pointer-click", size=14),
                rx.text(row["clicks"], size="2"),
                spacing="1",
                align="center",
            )
        ),
        rx.table.cell(rx.badge("Project", variant="soft")),
        rx.table.cell(rx.text("Dec 7, 2026", size="2", white_space="nowrap")),
        rx.table.cell(rx.flex(actions, gap="3", align="center", wrap="wrap")),
    ]


def _heavy_row(row) -> rx.Component:
    dialog = rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Delete", size="1", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete link"),
            rx.alert_dialog.description("It stops working at once."),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel")),
                rx.alert_dialog.action(rx.button("Delete link")),
                gap="2",
            ),
        ),
    )
    actions = rx.fragment(rx.switch(aria_label="Add click id"), dialog)
    return rx.table.row(*_cells(row, actions), aria_label="Link " + row["slug"])


def _medium_row(row) -> rx.Component:
    actions = rx.button("Delete", size="1", variant="soft")
    return rx.table.row(*_cells(row, actions), aria_label="Link " + row["slug"])


def _light_row(row) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.el.div(
                rx.el.a(row["slug"], href="#", class_name="rt-Text rt-reset rt-Link"),
                rx.el.div(row["url"], class_name="rt-Text rt-r-size-1"),
            ),
            class_name="rt-TableCell",
        ),
        rx.el.td(rx.el.span(row["clicks"], class_name="rt-Text rt-r-size-2"), class_name="rt-TableCell"),
        rx.el.td(rx.el.span("Project", class_name="rt-reset rt-Badge rt-r-size-1 rt-variant-soft"),
                 class_name="rt-TableCell"),
        rx.el.td(rx.el.span("Dec 7, 2026", class_name="rt-Text rt-r-size-2"), class_name="rt-TableCell"),
        rx.el.td(
            rx.el.button("Delete", type="button",
                         class_name="rt-reset rt-BaseButton rt-r-size-1 rt-variant-soft rt-Button"),
            class_name="rt-TableCell",
        ),
        aria_label="Link " + row["slug"],
        class_name="rt-TableRow",
    )  # fmt: skip


def _table(rows: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.cond(
            ShapeState.ready,
            rx.card(
                rx.vstack(
                    rx.heading("Links (12)", size="4"),
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])
                        ),
                        rx.table.body(rows),
                        width="100%",
                    ),
                    width="100%",
                ),
                width="100%",
            ),
            rx.spinner(),
        )
    )


def heavy() -> rx.Component:
    return _table(rx.foreach(ShapeState.rows, _heavy_row))


def medium() -> rx.Component:
    return _table(rx.foreach(ShapeState.rows, _medium_row))


def light() -> rx.Component:
    return _table(rx.foreach(ShapeState.rows, _light_row))


def bare() -> rx.Component:
    return rx.el.main(rx.el.p(ShapeState.greeting, id="bare-data"))


class HydrationMarker(rx.Fragment):
    """As orgportal's (`orgportal/components/hydration.py`) and the floor app's."""

    def add_imports(self) -> dict:
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list:
        loaded = rx.State.is_hydrated
        return [
            "useEffect(() => { document.documentElement.dataset.hydrated = 'true';"
            " window.dispatchEvent(new Event('app-hydrated')); }, []);",
            Var(
                _js_expr=f"useEffect(() => {{ document.documentElement.dataset.loaded ="
                f" String(!!{loaded!s}); }}, [{loaded!s}])",
                _var_data=loaded._get_all_var_data(),
            ),
        ]


@rx.memo
def _marker() -> rx.Component:
    return HydrationMarker.create()


app = rx.App(extra_app_wraps={(3, "HydrationMarker"): lambda stateful: rx.fragment(_marker())})
app.add_page(bare, route="/bare", on_load=ShapeState.load_bare)
app.add_page(heavy, route="/heavy", on_load=ShapeState.load)
app.add_page(medium, route="/medium", on_load=ShapeState.load)
app.add_page(light, route="/light", on_load=ShapeState.load)
