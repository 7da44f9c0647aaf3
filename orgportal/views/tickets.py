"""The ticket list (filters, pages, rows that link to each ticket, the New ticket form) and
one ticket's page (conversation, reply, department, close and reopen)."""

import reflex as rx

from orgportal import routes, styles
from orgportal.components.badges import status_badge
from orgportal.components.cells import NOWRAP
from orgportal.components.forms import (
    field_error,
    form_error,
    labelled_select,
    native_select,
    text_area_field,
    text_field,
)
from orgportal.components.pager import earlier_messages
from orgportal.components.prefetch import prefetch_page
from orgportal.components.read_only import read_only_note
from orgportal.state.tickets import STATUS_FILTERS, MessageRow, TicketRow, TicketsState, TicketState

S = TicketsState
T = TicketState
LABEL_CLASS = "rt-Text rt-r-size-2 rt-r-weight-medium"
# The number's link covers its whole row (a "stretched" link): one click target, one Tab stop.
STRETCHED = {"&::after": {"content": '""', "position": "absolute", "inset": "0"}}


def _status_badge(status) -> rx.Component:
    return status_badge(status, style=NOWRAP)  # "Open" (green) / "Closed" (gray)


# A member whose role does not handle tickets (Viewer, Billing Admin) reads who
# does, instead of the service's refusal. The services decide (`caps.handle_tickets`).
NOT_AN_AGENT = (
    "Agents, Admins and the Owner answer this organization's tickets. "
    "Ask an Admin to make you an Agent to see and answer them."
)


def _not_an_agent(caps) -> rx.Var:
    """A member of the active organization whose role does not handle tickets."""
    return (caps.role != "") & ~caps.handle_tickets


def _row(ticket: TicketRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                ticket.number,
                href=ticket.href,
                weight="medium",
                aria_label="Open " + ticket.number,
                style={**STRETCHED, **NOWRAP},
            )
        ),
        rx.table.cell(ticket.subject),
        rx.table.cell(ticket.requester),
        rx.table.cell(ticket.department),
        rx.table.cell(_status_badge(ticket.status)),
        rx.table.cell(rx.text(ticket.created, style=NOWRAP)),
        aria_label="Ticket " + ticket.number,
        position="relative",
        cursor="pointer",
        _hover={"background": "var(--gray-a3)"},
        _focus_within={"outline": "2px solid var(--focus-8)", "outline_offset": "-2px"},
    )


def filters() -> rx.Component:
    return rx.hstack(
        labelled_select(
            "Status",
            "ticket-status-filter",
            list(STATUS_FILTERS),
            value=S.status_filter,
            on_change=S.set_status_filter,
        ),
        labelled_select(
            "Department",
            "ticket-department-filter",
            S.department_filters,
            value=S.department_filter,
            on_change=S.set_department_filter,
        ),
        rx.spacer(),
        rx.text(
            S.total,
            rx.cond(S.total == 1, " ticket", " tickets"),
            size="2",
            color_scheme="gray",
            id="ticket-total",
        ),
        align="end",
        width="100%",
    )


TICKET_COLUMNS = ("Number", "Subject", "Requester", "Department", "Status", "Created")


def ticket_list() -> rx.Component:
    return rx.card(
        rx.vstack(
            filters(),
            rx.cond(
                S.rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(h) for h in TICKET_COLUMNS]
                        )
                    ),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    **styles.table(TICKET_COLUMNS),
                ),
                rx.text("No tickets match these filters.", size="2", color_scheme="gray"),
            ),
            rx.hstack(
                rx.button(
                    "Previous page",
                    variant="soft",
                    on_click=S.previous_page,
                    disabled=S.page == 0,
                ),
                rx.button("Next page", variant="soft", on_click=S.next_page, disabled=~S.has_more),
            ),
            width="100%",
        ),
        width="100%",
    )


def new_ticket_form() -> rx.Component:
    """Open a ticket for a customer (who called, or wrote some other way)."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New ticket", size="4"),
                rx.text(
                    "For a customer who reached you another way: numbered like the tickets "
                    "from your website.",
                    size="2",
                    color_scheme="gray",
                ),
                field_error(S.new_errors, "form"),
                rx.hstack(
                    text_field("Customer name", "name", S.new_errors, max_length=100),
                    text_field("Customer email", "email", S.new_errors, type="email"),
                    width="100%",
                ),
                text_field("Subject", "subject", S.new_errors, max_length=200),
                text_area_field("Message", "message", S.new_errors, rows="4"),
                rx.vstack(
                    rx.el.label(
                        "Department (optional)",
                        html_for="new-ticket-department",
                        class_name=LABEL_CLASS,
                    ),
                    native_select(
                        rx.foreach(
                            S.new_department_choices,
                            lambda option: rx.el.option(option, value=option),
                        ),
                        id="new-ticket-department",
                        name="department",
                    ),
                    field_error(S.new_errors, "department"),
                    spacing="1",
                ),
                rx.hstack(
                    rx.button("Create Ticket", type="submit"),
                    rx.button("Cancel", type="button", variant="soft", on_click=S.toggle_new_form),
                ),
                width="100%",
            ),
            on_submit=S.create_ticket,
            key=S.new_key,
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label="New ticket",
    )


def tickets_view() -> rx.Component:
    return rx.cond(
        _not_an_agent(S.caps),
        rx.vstack(
            rx.heading("Tickets", size="6"),
            read_only_note(NOT_AN_AGENT, note_id="tickets-read-only"),
            spacing="4",
            width="100%",
        ),
        _ticket_desk(),
    )


def _ticket_desk() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Tickets", size="6"),
            rx.spacer(),
            rx.cond(
                S.caps.handle_tickets & ~S.show_new_form & (S.error == ""),
                rx.button("New ticket", on_click=S.toggle_new_form),
            ),
            align="center",
            width="100%",
        ),
        form_error(S.error),
        rx.cond(
            S.error == "",
            rx.vstack(
                rx.cond(S.caps.handle_tickets & S.show_new_form, new_ticket_form()),
                ticket_list(),
                spacing="4",
                width="100%",
            ),
        ),
        # a ticket's page (a row, or Create Ticket): its scripts fetched in advance
        prefetch_page(page=routes.ticket("next")),
        spacing="4",
        width="100%",
    )


# --- one ticket's page ------------------------------------------------------------------


def _message(message: MessageRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(message.author, weight="bold", size="2"),
            rx.cond(
                message.from_requester,
                rx.badge("Requester"),
                rx.badge("Staff", color_scheme="blue"),
            ),
            rx.text(message.when, size="1", color_scheme="gray"),
            align="center",
        ),
        rx.text(message.body, size="2", white_space="pre-wrap"),
        padding="0.75em",
        border_radius="var(--radius-3)",
        background=rx.cond(message.from_requester, "var(--gray-a2)", "var(--blue-a2)"),
        width="100%",
    )


def _back() -> rx.Component:
    return rx.link("← Back to tickets", href=S.list_url, size="2", id="back-to-tickets")


def _state_bar() -> rx.Component:
    """Department, and Close, or (closed) the state said in words with Reopen."""
    return rx.vstack(
        rx.cond(
            T.status == "closed",
            rx.callout(
                "This ticket is closed. Reopen it, or reply, to continue the conversation.",
                icon="info",
                color_scheme="gray",
                id="ticket-closed-notice",
                width="100%",
            ),
        ),
        rx.hstack(
            labelled_select(
                "Ticket department",
                "ticket-department",
                T.department_choices,
                value=T.department,
                on_change=T.assign_department,
            ),
            rx.spacer(),
            rx.cond(
                T.status == "open",
                rx.button("Close Ticket", color_scheme="gray", on_click=T.close_ticket),
                rx.button("Reopen Ticket", variant="soft", on_click=T.reopen_ticket),
            ),
            align="end",
            width="100%",
        ),
        width="100%",
    )


def _reply_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Reply", html_for="ticket-reply", class_name=LABEL_CLASS),
            rx.text_area(id="ticket-reply", name="reply", width="100%", rows="4"),
            field_error(T.reply_errors, "reply"),
            rx.button("Send Reply", type="submit"),
            width="100%",
        ),
        on_submit=T.send_reply,
        key=T.reply_key,
        width="100%",
    )


def ticket_detail() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(T.ticket_number, size="6", id="ticket-number", as_="h1"),
                _status_badge(T.status),
                align="center",
                id="ticket-status",
            ),
            rx.heading(T.subject, size="4", weight="regular", as_="h2"),
            rx.text("From ", T.requester, size="2"),
            _state_bar(),
            earlier_messages(T.earlier_messages, T.show_earlier_messages),
            rx.vstack(rx.foreach(T.messages, _message), width="100%", spacing="2"),
            _reply_form(),
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label="Ticket " + T.ticket_number,
    )


def ticket_view() -> rx.Component:
    return rx.vstack(
        _back(),
        rx.cond(
            _not_an_agent(T.caps),
            rx.vstack(
                rx.heading("Ticket ", T.ticket_number, size="6", as_="h1"),
                read_only_note(NOT_AN_AGENT, note_id="tickets-read-only"),
                width="100%",
            ),
            _ticket_or_error(),
        ),
        spacing="4",
        width="100%",
    )


def _ticket_or_error() -> rx.Component:
    return rx.fragment(
        rx.cond(
            T.found,
            ticket_detail(),
            rx.cond(
                T.error != "",
                rx.vstack(
                    rx.heading("Ticket ", T.ticket_number, size="6", as_="h1"),
                    form_error(T.error),
                    width="100%",
                ),
            ),
        ),
    )
