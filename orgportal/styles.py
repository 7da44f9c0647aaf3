"""Design values in one place."""

import reflex as rx

ACCENT = "indigo"
CARD_WIDTH = "100%"
PAGE_MAX_WIDTH = "960px"
FORM_MAX_WIDTH = "420px"
theme = {"accent_color": ACCENT, "radius": "medium", "appearance": "light"}
PRODUCT = "orgportal"
# Below Radix's `md` breakpoint (768px) the layout is the phone one.
WIDE_ONLY = rx.breakpoints(initial="none", md="flex")
NARROW_ONLY = rx.breakpoints(initial="flex", md="none")
PAGE_PADDING = rx.breakpoints(initial="1em", md="1.5em")

# Tables: on a phone the columns share the width and long words (emails, URLs) wrap, so no
# table scrolls sideways (a scroll area without a focusable control fails keyboard users).
TABLE = {
    "layout": rx.breakpoints(initial="fixed", md="auto"),
    "width": "100%",
    "style": {"& td, & th": {"overflow_wrap": "anywhere"}},
}
