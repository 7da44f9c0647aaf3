"""Previous / Next for a list read a page at a time on the server."""

import reflex as rx
from reflex.vars import Var

from orgportal import styles


def pager(what: str, page: Var, page_count: Var, go_to) -> rx.Component:
    """Shown only when there is more than one page; `go_to(n)` loads page n (0-based)."""
    return rx.cond(
        page_count > 1,
        rx.hstack(
            rx.button(
                "Previous",
                size="1",
                variant="soft",
                disabled=page == 0,
                on_click=go_to(page - 1),
                aria_label=f"Previous page of {what}",
            ),
            rx.text("Page ", page + 1, " of ", page_count, size="2"),
            rx.button(
                "Next",
                size="1",
                variant="soft",
                disabled=page + 1 >= page_count,
                on_click=go_to(page + 1),
                aria_label=f"Next page of {what}",
            ),
            align="center",
        ),
    )


def state_pager(what: str, state) -> rx.Component:
    """`pager` for a state with the usual `page`, `page_count` and `go_to_page`."""
    return pager(what, state.page, state.page_count, state.go_to_page)



def paged_table(what: str, state, headers: list[str], row, empty) -> rx.Component:
    """A server-paged list as a table: `state.rows` drawn by `row` under `headers`, or the
    `empty` text (a string or a component) when there are none, then the pager. Every
    paged table of the app (links, files, projects, a project's links, the approval queue)."""
    return rx.fragment(
        rx.cond(
            state.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(state.rows, row)),
                **styles.table(headers),
            ),
            rx.text(empty, color_scheme="gray") if isinstance(empty, str) else empty,
        ),
        state_pager(what, state),
    )


def earlier_messages(count: Var, show) -> rx.Component:
    """Above a conversation that shows only its latest messages: how many came before, and
    the button that reads the next ones (`show`, an event)."""
    return rx.cond(
        count > 0,
        rx.hstack(
            rx.text(
                count,
                rx.cond(count == 1, " earlier message", " earlier messages"),
                size="2",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.button("Show earlier messages", size="1", variant="soft", on_click=show),
            align="center",
            spacing="2",
        ),
    )
