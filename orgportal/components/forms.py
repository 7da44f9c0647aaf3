"""Form fields with a real <label>, so people (and Playwright) find them by name."""

import reflex as rx
from reflex.vars import Var


def field_error(errors: Var, name: str) -> rx.Component:
    return rx.cond(
        errors.contains(name),
        rx.text(errors[name], color_scheme="red", size="1", role="alert", id=f"{name}-error"),
    )


def text_field(
    label: str,
    name: str,
    errors: Var | None = None,
    *,
    type: str = "text",
    default_value: Var | str = "",
    **props,
) -> rx.Component:
    """The theme's text field written as its plain elements with Radix's own classes (as
    `native_select` does): the same look and focus ring, without the component's prop
    extraction and run-time styles on every page that shows a form (`page_load.py`)."""
    input_id = f"field-{name}"
    return rx.el.div(
        rx.el.label(label, html_for=input_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        rx.el.div(
            rx.el.input(
                id=input_id,
                name=name,
                type=type,
                default_value=default_value,
                spell_check=False,
                class_name="rt-reset rt-TextFieldInput",
                **props,
            ),
            class_name="rt-TextFieldRoot rt-r-size-2 rt-variant-surface op-field-box",
        ),
        field_error(errors, name) if errors is not None else rx.fragment(),
        class_name="op-field",
    )


def text_area_field(
    label: str, name: str, errors: Var | None = None, *, default_value: Var | str = "", **props
) -> rx.Component:
    input_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=input_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        rx.text_area(id=input_id, name=name, default_value=default_value, width="100%", **props),
        field_error(errors, name) if errors is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def form_error(message: Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def native_select(*options, size: str = "2", **props) -> rx.Component:
    """A native <select> styled like the theme's Select: keyboard- and Playwright-friendly,
    and far lighter than Radix's (which renders every item of every closed select)."""
    height = {"1": "24px", "2": "32px"}[size]
    return rx.el.select(
        *options,
        class_name=f"rt-reset rt-SelectTrigger rt-r-size-{size} rt-variant-surface",
        style={"padding": "0 0.5em", "height": height, "max_width": "16em", **props.pop("style", {})},
        **props,
    )


def form_select(
    label: str, name: str, *options, errors: Var, error_key: str = "", **props
) -> rx.Component:
    """A labelled native select inside a form: uncontrolled, submitted as `name`, with its
    field's error under it (`errors[error_key]`, by default `errors[name]`)."""
    select_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=select_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        native_select(*options, id=select_id, name=name, **props),
        field_error(errors, error_key or name),
        spacing="1",
    )


def labelled_select(
    label: str, select_id: str, options: list[str] | Var, *, value: Var | str, on_change
) -> rx.Component:
    """A native <select> with a real <label>: keyboard- and Playwright-friendly."""
    return rx.vstack(
        rx.el.label(label, html_for=select_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        native_select(
            rx.foreach(options, lambda option: rx.el.option(option, value=option)),
            id=select_id,
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def add_form(
    label: str,
    name: str,
    button: str,
    *,
    errors: Var,
    on_submit,
    key: Var,
    placeholder: str = "",
    input_id: str = "",
    width: str = "18em",
) -> rx.Component:
    """One field and its Add button (a domain, a department): the button goes under the
    field on a phone; `key` re-mounts the form empty after each save (see the states)."""
    input_id = input_id or f"field-{name}"
    return rx.form(
        rx.hstack(
            rx.vstack(
                rx.el.label(
                    label, html_for=input_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
                ),
                rx.input(
                    id=input_id, name=name, placeholder=placeholder, width=f"min({width}, 100%)"
                ),
                spacing="1",
            ),
            rx.button(button, type="submit"),
            align="end",
            wrap="wrap",
        ),
        field_error(errors, name),
        on_submit=on_submit,
        key=key,
    )

