"""The Business Details card with its searchable country dropdown."""

import reflex as rx

from orgportal.components.forms import field_error, text_field
from orgportal.state.base import AppState
from orgportal.state.business_details import COUNTRY_INPUT, CountryOption
from orgportal.state.business_details import BusinessDetailsState as S

FIELDS = [
    ("Address", "address"),
    ("City", "city"),
    ("Postcode", "postcode"),
    ("Phone", "phone"),
    ("Email", "email"),
    ("Website", "website"),
    ("VAT Number", "vat_number"),
    ("Registration Number", "registration_number"),
]


# Keys the combobox handles; every other key stays in the browser (no round trip).
COMBOBOX_KEYS = ["ArrowDown", "ArrowUp", "Enter", "Escape"]
LISTBOX_ID = "country-listbox"


def _flag(src: rx.Var) -> rx.Component:
    """A flag beside a country's name: decorative (the name says it), an SVG because flag
    emoji need a colour emoji font many machines lack."""
    return rx.image(
        src=src,
        alt="",
        width="20px",
        height="15px",
        loading="lazy",
        border="1px solid var(--gray-a5)",
        flex_shrink="0",
    )


def _country_option(option: CountryOption, index: rx.Var) -> rx.Component:
    active = index == S.country_active
    return rx.el.li(
        rx.hstack(_flag(option.flag), rx.text(option.label, size="2"), align="center"),
        id=option.option_id,
        role="option",
        aria_selected=rx.cond(active, "true", "false"),
        on_click=S.choose_country(option.code),
        padding="0.3em 0.6em",
        cursor="pointer",
        background=rx.cond(active, "var(--accent-a4)", "transparent"),
        box_shadow=rx.cond(active, "inset 3px 0 0 var(--accent-9)", "none"),
        _hover={"background": "var(--accent-a3)"},
    )


def country_picker() -> rx.Component:
    """An ARIA combobox: type to filter, ArrowDown/ArrowUp to move, Enter to choose, Escape
    to close; focus stays in the input, and Enter never submits the form while the list is
    open."""
    return rx.vstack(
        rx.el.label(
            "Country", html_for=COUNTRY_INPUT, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
        ),
        rx.input(
            id=COUNTRY_INPUT,
            name="country_search",
            role="combobox",
            auto_complete="off",
            aria_autocomplete="list",
            aria_expanded=rx.cond(S.country_open, "true", "false"),
            aria_controls=LISTBOX_ID,
            aria_activedescendant=rx.cond(S.country_active_id != "", S.country_active_id, None),
            aria_describedby="country-help",
            placeholder=rx.cond(
                S.chosen_country_label != "", S.chosen_country_label, "Search countries…"
            ),
            # Uncontrolled: every keystroke reaches the state in order with the arrow keys.
            on_change=S.set_country_query,
            on_focus=S.open_countries,
            on_blur=S.close_countries,
            on_key_down=lambda key, _info: rx.cond(
                rx.Var.create(COMBOBOX_KEYS).contains(key),
                # while the list is open these keys are the list's: Enter chooses, it does
                # not submit the form, and the arrows do not move the caret
                rx.cond(S.country_open, S.country_key(key).prevent_default, S.country_key(key)),
                rx.noop(),
            ),
            width="100%",
        ),
        rx.text(
            "Type a country's name or code, then use the arrow keys and Enter to choose.",
            id="country-help",
            size="1",
            color_scheme="gray",
            high_contrast=True,
        ),
        rx.cond(
            S.chosen_country_label != "",
            rx.hstack(
                rx.text("Selected:", size="1"),
                _flag(S.chosen_country_flag),
                rx.text.strong(S.chosen_country_label, id="country-selected", size="1"),
                align="center",
                spacing="1",
            ),
        ),
        rx.el.ul(
            rx.foreach(S.country_options, _country_option),
            id=LISTBOX_ID,
            role="listbox",
            aria_label="Countries",
            # a click on an option must not blur the input first (that closes the list)
            on_mouse_down=rx.prevent_default,
            display=rx.cond(S.country_open & (S.country_options.length() > 0), "block", "none"),
            max_height="220px",
            overflow_y="auto",
            border="1px solid var(--gray-a6)",
            border_radius="6px",
            width="100%",
            list_style="none",
            margin="0",
            padding="0",
        ),
        rx.cond(
            S.country_open & (S.country_options.length() == 0),
            rx.text("No country matches.", size="2", role="status"),
        ),
        field_error(S.errors, "country"),
        spacing="1",
        width="100%",
    )


def _read_only_row(label: str, name: str) -> rx.Component:
    value = S.vat_shown if name == "vat_number" else S.values[name]
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def business_details_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Business Details", size="4"),
                rx.spacer(),
                rx.cond(
                    AppState.caps.edit_organization & ~S.editing & ~_nothing_filled(),
                    rx.button(
                        rx.icon("pencil", size=14),
                        "Edit",
                        variant="soft",
                        aria_label="Edit business details",
                        # not before this page's values are loaded: the load closes the form
                        disabled=~rx.State.is_hydrated,
                        on_click=S.edit,
                    ),
                ),
                width="100%",
            ),
            rx.cond(S.editing, _edit_form(), rx.cond(_nothing_filled(), _empty(), _read_only())),
            width="100%",
        ),
        width="100%",
    )


def _nothing_filled() -> rx.Var:
    """True while no business detail (nor the country) has been saved."""
    filled = S.values["country"].to(str) != ""
    for _, name in FIELDS:
        filled = filled | (S.values[name].to(str) != "")
    return ~filled


def _empty() -> rx.Component:
    """Instead of nine empty labels: what the section is for, and Add for those who may."""
    return rx.vstack(
        rx.text(
            "No business details yet. Add the address, contact details and tax numbers your "
            "invoices and customers should see.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            AppState.caps.edit_organization,
            rx.button(
                rx.icon("plus", size=14, aria_hidden="true"),
                "Add business details",
                variant="soft",
                disabled=~rx.State.is_hydrated,
                on_click=S.edit,
            ),
        ),
        align="start",
        spacing="2",
        id="business-details-empty",
    )


def _read_only() -> rx.Component:
    return rx.data_list.root(
        *[_read_only_row(label, name) for label, name in FIELDS[:3]],
        rx.data_list.item(
            rx.data_list.label("Country"),
            rx.data_list.value(
                rx.hstack(
                    rx.cond(S.country_flag != "", _flag(S.country_flag)),
                    rx.text(S.country_label, id="country-shown"),
                    align="center",
                    spacing="2",
                )
            ),
        ),
        *[_read_only_row(label, name) for label, name in FIELDS[3:]],
    )


def _edit_form() -> rx.Component:
    """Mounted by Edit, so its inputs start from the saved values; a successful Save closes
    it and the read-only view shows what was saved."""
    inputs = {
        name: text_field(label, name, S.errors, default_value=S.values[name])
        for label, name in FIELDS
    }
    return rx.form(
        rx.vstack(
            inputs["address"],
            rx.hstack(inputs["city"], inputs["postcode"], width="100%"),
            country_picker(),
            rx.hstack(inputs["phone"], inputs["email"], width="100%"),
            inputs["website"],
            rx.hstack(inputs["vat_number"], inputs["registration_number"], width="100%"),
            rx.hstack(
                rx.button("Save", type="submit"),
                rx.button("Cancel", type="button", variant="soft", on_click=S.cancel),
            ),
            spacing="3",
            width="100%",
        ),
        aria_label="Business details",
        on_submit=S.save,
        reset_on_submit=False,
    )
