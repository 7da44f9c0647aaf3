"""Design values in one place."""

import json
from collections.abc import Sequence

ACCENT = "indigo"
CARD_WIDTH = "100%"
FORM_MAX_WIDTH = "420px"
theme = {"accent_color": ACCENT, "radius": "medium", "appearance": "light"}
PRODUCT = "orgportal"

# Tables: on a phone (below `md`) each row becomes a stacked block, each value beside its
# column's name (drawn by CSS from the headers, so screen readers still read the real
# table), and long words (emails, URLs) wrap: no table is wider than the screen, and none
# scrolls sideways (a scroll area without a focusable control fails keyboard users).
PHONE = "@media (max-width: 767.98px)"
UNLABELLED_COLUMNS = ("", "Actions")


def table(headers: Sequence[str] = ()) -> dict:
    """Props for an `rx.table.root` whose columns are `headers`."""
    labels = {
        f"& tbody td:nth-of-type({i})::before": {"content": json.dumps(header)}
        for i, header in enumerate(headers, start=1)
        if header not in UNLABELLED_COLUMNS
    }
    return {
        "width": "100%",
        "style": {
            # top-aligned cells: a value that grows (a focused, truncated URL shown whole)
            # never moves the controls of the other cells under the pointer
            "& td, & th": {"vertical_align": "top"},
            "& td": {"overflow_wrap": "anywhere"},  # headers break between words only
            PHONE: {
                # Radix's scroll area wraps the table in an inline `display: table` box that
                # grows to the widest cell: a block keeps the rows to the card's width
                "& .rt-ScrollAreaViewport, & .rt-ScrollAreaViewport > div": {
                    "display": "block !important",
                    "width": "100%",
                },
                # Radix gives the <table> `height: 0` (a table grows anyway; a block does not)
                "& table, & tbody, & tr": {"display": "block", "width": "100%", "height": "auto"},
                "& thead": {  # visually hidden, still read out
                    "position": "absolute",
                    "width": "1px",
                    "height": "1px",
                    "overflow": "hidden",
                    "clip": "rect(0 0 0 0)",
                },
                "& tr": {"padding": "0.5em 0", "border_bottom": "1px solid var(--gray-a5)"},
                "& td": {
                    "display": "flex",
                    "align_items": "center",
                    "gap": "0.75em",
                    "padding": "0.2em 0",
                    "min_height": "0",
                    "height": "auto",
                    "box_shadow": "none",
                },
                "& td > *": {"min_width": "0"},  # long values wrap instead of overflowing
                "& td::before": {
                    "flex": "0 0 6.5em",
                    "font_weight": "500",
                    "color": "var(--gray-11)",
                },
                **labels,
            },
        },
    }


TABLE = table()
