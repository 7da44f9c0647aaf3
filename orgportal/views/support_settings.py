"""Ticket Prefix, Departments and Authorized Domains cards (Owner and Admins only).

Prefix and Departments are part of the Support Subscription: without one they are shown
locked, with a way to subscribe. Authorized Domains are always available.
"""

import reflex as rx

from orgportal import routes
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import add_form, field_error
from orgportal.state.base import AppState
from orgportal.state.billing import BillingState
from orgportal.state.support_settings import (
    SEAT_PRICE,
    DepartmentMemberChip,
    DepartmentRow,
    DomainRow,
    SupportSettingsState,
)

S = SupportSettingsState


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, class_name="rt-Text rt-r-size-2 rt-r-weight-medium")


MEMBER_MATCHES = "department-member-matches"


def _member_matches() -> rx.Component:
    """One list of suggestions for every department's picker, filled by the server search."""
    return rx.el.datalist(
        rx.foreach(S.member_matches, lambda o: rx.el.option(o.label, value=o.email)),
        id=MEMBER_MATCHES,
    )


def _locked(feature: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("lock", size=16),
            rx.text(
                f"{feature} needs a Support Subscription ({SEAT_PRICE} per seat per month).",
                size="2",
            ),
            align="center",
        ),
        rx.cond(
            AppState.caps.manage_billing,
            rx.button(
                "Subscribe to unlock", variant="soft", on_click=BillingState.subscribe_support
            ),
            rx.text("Ask the Owner or a Billing Admin to subscribe to Support.", size="1"),
        ),
        role="group",
        aria_label=f"{feature} is locked",
    )


def _prefix_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _label("Ticket Prefix", "field-prefix"),
            rx.hstack(
                rx.input(
                    id="field-prefix",
                    name="prefix",
                    default_value=S.prefix,
                    max_length=10,
                    width="10em",
                ),
                rx.button("Save Prefix", type="submit"),
                field_error(S.prefix_errors, "prefix"),
                align="center",
            ),
            rx.text(
                "1–10 letters or digits. New tickets are numbered ",
                rx.text.strong(S.prefix + "-001", id="prefix-example"),
                "…; existing numbers never change.",
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        on_submit=S.save_prefix,
        key=S.prefix_key,  # bumped after a save, once the state holds the saved prefix
        aria_label="Ticket prefix",
    )


def prefix_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Ticket Prefix", size="4"),
            rx.cond(S.support_active, _prefix_form(), _locked("Ticket Prefix")),
            width="100%",
        ),
        width="100%",
    )


def _member_chip(chip: DepartmentMemberChip) -> rx.Component:
    return rx.badge(
        chip.name,
        rx.icon_button(
            rx.icon("x", size=12),
            size="1",
            variant="ghost",
            aria_label="Remove " + chip.email + " from department",
            on_click=S.unassign_member(chip.department_id, chip.user_id),
        ),
        variant="surface",
        size="2",
    )


def _hidden_id(row: DepartmentRow) -> rx.Component:
    return rx.el.input(type="hidden", name="department_id", value=row.id)


def _rename_error(row: DepartmentRow) -> rx.Component:
    key = row.id.to_string()
    return rx.cond(
        S.rename_errors.contains(key),
        rx.text(S.rename_errors[key], color_scheme="red", size="1", role="alert"),
    )


def _assign_error(row: DepartmentRow) -> rx.Component:
    key = row.id.to_string()
    return rx.cond(
        S.assign_errors.contains(key),
        rx.text(S.assign_errors[key], color_scheme="red", size="1", role="alert"),
    )


def _department(row: DepartmentRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.form(
                rx.hstack(
                    _hidden_id(row),
                    rx.input(name="name", default_value=row.name, aria_label="Name of " + row.name),
                    rx.button("Rename", variant="soft", size="2", type="submit"),
                ),
                on_submit=S.rename_department,
                # Re-mounted (showing the saved name) after each change and whenever this
                # row's name differs: an uncontrolled input never picks up a new default.
                key=S.department_key.to_string() + ":" + row.id.to_string() + ":" + row.name,
            ),
            rx.spacer(),
            confirm_button(
                "Delete",
                icon="trash_2",
                variant="soft",
                aria_label="Delete department " + row.name,
                title="Delete department",
                description=(
                    "The department ",
                    rx.text.strong(row.name),
                    " and its member list are deleted. Its tickets stay, unassigned.",
                ),
                confirm_label="Delete department",
                on_confirm=S.delete_department(row.id),
            ),
            width="100%",
        ),
        _rename_error(row),
        rx.hstack(rx.foreach(row.members, _member_chip), wrap="wrap"),
        rx.form(
            rx.hstack(
                _hidden_id(row),
                rx.input(
                    name="member_email",
                    list=MEMBER_MATCHES,
                    placeholder="Name or email",
                    aria_label="Member for " + row.name,
                    custom_attrs={"autoComplete": "off"},
                    on_change=S.find_members.debounce(250),
                ),
                rx.button(
                    "Assign", variant="soft", type="submit", aria_label="Assign to " + row.name
                ),
            ),
            on_submit=S.assign_member,
            reset_on_submit=True,
        ),
        _assign_error(row),
        padding="0.75em",
        border="1px solid var(--gray-a5)",
        border_radius="var(--radius-3)",
        width="100%",
        role="group",
        aria_label="Department " + row.name,
    )


def _departments_editor() -> rx.Component:
    return rx.vstack(
        _member_matches(),
        add_form(
            "New department",
            "name",
            "Add Department",
            errors=S.department_errors,
            on_submit=S.create_department,
            key=S.department_key,
            placeholder="Sales",
            input_id="field-department",
            width="16em",
        ),
        rx.foreach(S.departments, _department),
        width="100%",
    )


def departments_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Departments", size="4"),
            rx.cond(S.support_active, _departments_editor(), _locked("Departments")),
            width="100%",
        ),
        width="100%",
    )


def _domain(row: DomainRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.display, weight="medium"),
        rx.cond(row.display != row.domain, rx.code(row.domain)),
        rx.text("added ", row.added, size="1", color_scheme="gray"),
        rx.spacer(),
        confirm_button(
            "Remove",
            size="1",
            variant="soft",
            aria_label="Remove domain " + row.domain,
            title="Remove authorized domain",
            description=(
                "Websites on ",
                rx.text.strong(row.display),
                " and its subdomains can no longer submit tickets with the support plugin. "
                "Tickets already received stay.",
            ),
            confirm_label="Remove domain",
            on_confirm=S.remove_domain(row.id),
        ),
        align="center",
        width="100%",
        role="group",
        aria_label="Domain " + row.domain,
    )


def domains_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Authorized Domains", size="4"),
            rx.text(
                "Websites on these domains (and their subdomains) may submit tickets with the "
                "support plugin.",
                size="2",
            ),
            rx.text(
                "The plugin posts JSON {name, email, subject, message} to ",
                rx.code(S.intake_url, id="intake-url"),
                size="1",
                color_scheme="gray",
            ),
            add_form(
                "Domain",
                "domain",
                "Add Domain",
                errors=S.domain_errors,
                on_submit=S.add_domain,
                key=S.domain_key,
                placeholder="shop.example.com",
            ),
            rx.foreach(S.domains, _domain),
            width="100%",
        ),
        width="100%",
    )


def _not_manager() -> rx.Component:
    return rx.callout(
        rx.text(
            "The Owner and Admins manage the ticket prefix, departments and authorized domains: "
            "ask an Admin for a change. ",
            rx.cond(
                AppState.caps.handle_tickets,
                rx.link("Open the tickets", href=routes.TICKETS, underline="always"),
            ),
        ),
        icon="info",
        width="100%",
    )


def support_settings_section() -> rx.Component:
    """The Support sub-page's cards (filled by the page load), for those who manage support."""
    return rx.cond(
        AppState.caps.manage_support,
        rx.vstack(prefix_card(), departments_card(), domains_card(), spacing="4", width="100%"),
        _not_manager(),
    )
