"""The Business Details card with its searchable country dropdown."""

import reflex as rx

from orgportal.components.forms import field_error, text_field
from orgportal.state.base import AppState
from orgportal.state.business_details import BusinessDetailsState as S
from orgportal.state.business_details import CountryOption

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


def _country_option(option: CountryOption) -> rx.Component:
    return rx.el.li(
        option.label,
        role="option",
        on_click=S.choose_country(option.code),
        padding="0.3em 0.6em",
        cursor="pointer",
        _hover={"background": "var(--accent-a3)"},
    )


def country_picker() -> rx.Component:
    return rx.vstack(
        rx.el.label(
            "Country", html_for="field-country", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
        ),
        rx.input(
            id="field-country",
            name="country_search",
            role="combobox",
            aria_expanded=S.country_open,
            placeholder=rx.cond(
                S.chosen_country_label != "", S.chosen_country_label, "Search countries…"
            ),
            value=S.country_query,
            on_change=S.set_country_query.debounce(150),
            on_focus=S.open_countries,
            width="100%",
        ),
        rx.cond(
            S.chosen_country_label != "",
            rx.text(
                "Selected: ",
                rx.text.strong(S.chosen_country_label, id="country-selected"),
                size="1",
            ),
        ),
        rx.cond(
            S.country_open,
            rx.el.ul(
                rx.foreach(S.country_options, _country_option),
                role="listbox",
                max_height="220px",
                overflow_y="auto",
                border="1px solid var(--gray-a6)",
                border_radius="6px",
                width="100%",
                list_style="none",
                margin="0",
                padding="0",
            ),
        ),
        field_error(S.errors, "country"),
        spacing="1",
        width="100%",
    )


def _read_only_row(label: str, name: str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(S.values[name]))


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
        rx.data_list.item(rx.data_list.label("Country"), rx.data_list.value(S.country_label)),
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
