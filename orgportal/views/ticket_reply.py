"""The sections of /support/ticket/{token}: the ticket's conversation as its requester sees
it (their own messages as "You", the staff's by name) and the reply form (SPEC §7, §17)."""

import reflex as rx

from orgportal.components.badges import status_badge
from orgportal.components.forms import form_error, text_area_field
from orgportal.components.pager import earlier_messages
from orgportal.state.ticket_reply import SENT, ReplyMessageRow, TicketReplyState

S = TicketReplyState


def ticket_reply_step() -> rx.Component:
    """While the link is checked a spinner; then its refusal, or the conversation."""
    return rx.cond(
        ~S.checked,
        rx.spinner(),
        rx.cond(S.link_error != "", _unusable(), _conversation()),
    )


def _unusable() -> rx.Component:
    return rx.vstack(
        rx.heading("Reply to a ticket", size="6", as_="h1"),
        form_error(S.link_error),
        rx.text(
            "Each reply we send you carries a link to answer it. Use the link in the newest "
            "message about your ticket, or contact the support team again.",
            size="2",
        ),
        spacing="3",
        width="100%",
    )


def _message(message: ReplyMessageRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(message.author, weight="bold", size="2"),
            rx.text(message.when, size="1", color_scheme="gray"),
            align="center",
            justify="between",
            width="100%",
        ),
        rx.text(message.body, size="2", white_space="pre-wrap"),
        padding="0.75em",
        border_radius="var(--radius-3)",
        background=rx.cond(message.mine, "var(--gray-a2)", "var(--blue-a2)"),
        width="100%",
        role="article",
        aria_label=rx.cond(message.mine, "Your message", "Message from " + message.author),
    )


def _conversation() -> rx.Component:
    return rx.vstack(
        rx.heading(
            S.organization_name + " · " + S.number + " · " + S.subject,
            size="5",
            as_="h1",
            id="reply-ticket",
        ),
        rx.hstack(
            status_badge(S.status),
            rx.cond(
                S.status == "closed",
                rx.text(
                    "This ticket is closed. Replying opens it again.", size="2", id="reply-closed"
                ),
            ),
            align="center",
        ),
        earlier_messages(S.earlier_messages, S.show_earlier_messages),
        rx.vstack(
            rx.foreach(S.messages, _message),
            width="100%",
            spacing="2",
            role="region",
            aria_label="Conversation",
        ),
        _reply_form(),
        spacing="4",
        width="100%",
    )


def _reply_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            text_area_field("Your reply", "reply", S.errors, rows="5", max_length=5000),
            rx.cond(
                S.sent,
                rx.callout(SENT, icon="check", color_scheme="green", role="status", size="1"),
            ),
            rx.button("Send reply", type="submit"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.send,
        key=S.reply_key,
        width="100%",
    )
