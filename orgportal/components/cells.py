"""Table cells that never break a word: short codes, roles, counts and buttons on
one line; long addresses cut with an ellipsis, whole in their tooltip (`title`).

`styles.table` lets cells wrap anywhere, so that on a phone no value pushes the page wider
than the screen; these styles opt the short values out of that, and let one column per
table (`FILL_CELL`) take the width the others leave on a wide screen."""

import reflex as rx

from orgportal.styles import PHONE

NOWRAP = {"white_space": "nowrap"}
WIDE = "@media (min-width: 768px)"
# A table cell shrinks below its content only with a zero max-width; at 100% width it takes
# what the other columns (sized to their one-line content) leave. On a phone rows stack.
FILL_CELL = {WIDE: {"max_width": "0", "width": "100%"}}
# One line with an ellipsis, within its cell; once it has the keyboard focus the whole value
# shows, wrapped in place (a keyboard user cannot hover for the tooltip).
ONE_LINE = {
    "display": "block",
    "max_width": "100%",
    "min_width": "0",
    "overflow": "hidden",
    "text_overflow": "ellipsis",
    "white_space": "nowrap",
}
TRUNCATED = {**ONE_LINE, "_focus_visible": {"white_space": "normal", "overflow_wrap": "anywhere"}}


def one_line_link(text: rx.Var | str, href: rx.Var | str, **props) -> rx.Component:
    """An external link on one line, cut with an ellipsis; its full text is its title."""
    return rx.link(
        text,
        href=href,
        is_external=True,
        title=text,
        style={**TRUNCATED, **props.pop("style", {})},
        **props,
    )


def email_text(email: rx.Var) -> rx.Component:
    """An email address that may wrap only after its @ (never inside a name or domain)."""
    parts = email.to(str).split("@")
    return rx.el.span(
        parts[0],
        rx.cond(parts.length() > 1, rx.fragment("@", rx.el.wbr(), parts[1])),
        style={
            "overflow_wrap": "normal",
            "word_break": "normal",
            PHONE: {"overflow_wrap": "anywhere"},
        },
    )
