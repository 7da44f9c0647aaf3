"""One confirmation for every destructive action.

An alert dialog that says what will be lost, names the action on its confirm button
("Delete link", "Revoke key", never just "Confirm") and offers Cancel; Escape cancels too
(Radix's alert dialog, which also opens with the focus on Cancel, so Enter by mistake loses
nothing). Its title and description name the dialog for assistive technology.
"""

import reflex as rx

Text = str | rx.Var | rx.Component


def _parts(text: Text | tuple | list) -> list:
    return list(text) if isinstance(text, tuple | list) else [text]


# White on step 9 of these scales is under 4.5:1: their solid buttons use high contrast.
LOW_CONTRAST_SOLID = {"red", "tomato", "ruby", "crimson"}


def action_button(label: Text, *, color: str | None = "red", **props) -> rx.Component:
    """The dialog's confirm button, named after the action."""
    if color:
        props = {"color_scheme": color, "high_contrast": color in LOW_CONTRAST_SOLID, **props}
    return rx.button(label, **props)


def cancel_button() -> rx.Component:
    return rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray"))


def confirm_dialog(
    title: Text, description: Text | tuple | list, *body: rx.Component, actions: list
) -> rx.Component:
    """The dialog's content: title, what will be lost, any extra fields, Cancel and the
    action buttons (right-aligned). Also used as it is where a confirmation needs more than
    one click, like typing the organization's name."""
    return rx.alert_dialog.content(
        rx.alert_dialog.title(title),
        rx.alert_dialog.description(*_parts(description), size="2"),
        *body,
        rx.hstack(cancel_button(), *actions, justify="end", spacing="3", margin_top="1em"),
        max_width="30em",
    )


def confirm_button(
    trigger_label: Text,
    *,
    title: Text,
    description: Text | tuple | list,
    confirm_label: str,
    on_confirm,
    color: str | None = "red",
    icon: str | None = None,
    **trigger_props,
) -> rx.Component:
    """A button that opens the confirmation; `on_confirm` runs only from its confirm button.
    `color` is both buttons' color scheme (None: the theme's accent, for a change that is
    not a loss); `trigger_props` style the trigger (size, variant, aria_label, disabled…)."""
    scheme = {"color_scheme": color} if color else {}
    label = [rx.icon(icon, size=14, aria_hidden="true"), trigger_label] if icon else [trigger_label]
    confirm = rx.alert_dialog.action(action_button(confirm_label, color=color, on_click=on_confirm))
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(*label, **scheme, **trigger_props)),
        confirm_dialog(title, description, actions=[confirm]),
    )
