"""The ticket list with its filters and pages, and the open ticket's conversation."""

import reflex as rx

from orgportal.components.forms import field_error, form_error, labelled_select
from orgportal.state.tickets import STATUS_FILTERS, MessageRow, TicketRow, TicketsState

S = TicketsState


def _status_badge(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.cond(status == "open", "green", "gray"))


def _row(ticket: TicketRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.button(
                ticket.number,
                variant="ghost",
                size="1",
                aria_label="Open " + ticket.number,
                on_click=S.open_ticket(ticket.id),
            )
        ),
        rx.table.cell(ticket.subject),
        rx.table.cell(ticket.requester),
        rx.table.cell(ticket.department),
        rx.table.cell(_status_badge(ticket.status)),
        rx.table.cell(ticket.created),
        aria_label="Ticket " + ticket.number,
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


def ticket_list() -> rx.Component:
    return rx.card(
        rx.vstack(
            filters(),
            rx.cond(
                S.rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in (
                                    "Number",
                                    "Subject",
                                    "Requester",
                                    "Department",
                                    "Status",
                                    "Created",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    width="100%",
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


def ticket_detail() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(S.selected_number, size="5", id="ticket-number"),
                rx.heading(S.selected_subject, size="4", weight="regular"),
                rx.spacer(),
                _status_badge(S.selected_status),
                align="center",
                width="100%",
            ),
            rx.text("From ", S.selected_requester, size="2"),
            rx.hstack(
                labelled_select(
                    "Ticket department",
                    "ticket-department",
                    S.department_choices,
                    value=S.selected_department,
                    on_change=S.assign_department,
                ),
                rx.spacer(),
                rx.cond(
                    S.selected_status == "open",
                    rx.button("Close Ticket", color_scheme="gray", on_click=S.close_ticket),
                    rx.button("Reopen Ticket", variant="soft", on_click=S.reopen_ticket),
                ),
                align="end",
                width="100%",
            ),
            rx.vstack(rx.foreach(S.messages, _message), width="100%", spacing="2"),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        "Reply",
                        html_for="ticket-reply",
                        class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                    ),
                    rx.text_area(id="ticket-reply", name="reply", width="100%", rows="4"),
                    field_error(S.reply_errors, "reply"),
                    rx.button("Send Reply", type="submit"),
                    width="100%",
                ),
                on_submit=S.send_reply,
                key=S.reply_key,
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label="Open ticket",
    )


def tickets_view() -> rx.Component:
    return rx.vstack(
        rx.heading("Tickets", size="6"),
        form_error(S.error),
        rx.cond(
            S.error == "",
            rx.vstack(
                ticket_list(),
                rx.cond(S.selected_id != 0, ticket_detail()),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
