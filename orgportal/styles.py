"""Design values in one place."""

ACCENT = "indigo"
CARD_WIDTH = "100%"
PAGE_MAX_WIDTH = "960px"
FORM_MAX_WIDTH = "420px"
theme = {"accent_color": ACCENT, "radius": "medium", "appearance": "light"}
