"""The Members sub-page: members list, Invite Members form and pending invites (MembersState)."""

import reflex as rx

from orgportal import routes, styles
from orgportal.components.badges import status_badge
from orgportal.components.cells import NOWRAP, email_text
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import field_error, form_error, labelled_select, native_select
from orgportal.components.pager import pager
from orgportal.components.read_only import read_only_note
from orgportal.models import Role
from orgportal.state.member_limit import MemberLimitState
from orgportal.state.members import InviteRow, MemberRow, MembersState


def _is_owner(member: MemberRow):
    return member.role == Role.OWNER.label


def _is_me(member: MemberRow):
    """Rows carry no per-viewer flags (performance: a page of rows stays small)."""
    return member.email == MembersState.user_email


def _role_options() -> rx.Component:
    return rx.foreach(
        MembersState.invite_role_labels, lambda label: rx.el.option(label, value=label)
    )


def _role_cell(member: MemberRow) -> rx.Component:
    editable = MembersState.can_manage & ~_is_owner(member) & ~_is_me(member)
    return rx.cond(
        editable,
        native_select(
            # the current role first, hidden: shown even when the viewer may not grant it
            rx.el.option(member.role, value=member.role, hidden=True),
            _role_options(),
            value=member.role,
            on_change=lambda label: MembersState.change_role(member.user_id, label),
            aria_label="Role for " + member.email,
            size="1",
        ),
        status_badge(member.role, style=NOWRAP),
    )


def _member_actions(member: MemberRow) -> rx.Component:
    return rx.hstack(
        rx.cond(
            MembersState.i_am_owner & ~_is_me(member),
            confirm_button(
                "Transfer Ownership",
                size="1",
                variant="soft",
                color="amber",
                title="Transfer ownership",
                description=(
                    rx.text.strong(member.name),
                    " becomes the Owner and you become an Admin. Only the new Owner can "
                    "give ownership back.",
                ),
                confirm_label="Transfer ownership",
                on_confirm=MembersState.transfer_ownership(member.user_id),
                style=NOWRAP,
            ),
        ),
        rx.cond(
            MembersState.can_manage & ~_is_owner(member) & ~_is_me(member),
            confirm_button(
                "Remove",
                size="1",
                variant="soft",
                title="Remove member",
                description=(
                    rx.text.strong(member.email),
                    " loses access to this organization at once; coming back takes a new invite.",
                ),
                confirm_label="Remove member",
                on_confirm=MembersState.remove(member.user_id),
                style=NOWRAP,
            ),
        ),
        rx.cond(
            _is_me(member) & ~_is_owner(member),
            confirm_button(
                "Leave Organization",
                size="1",
                variant="soft",
                title="Leave organization",
                description="You lose access to this organization at once; coming back takes a "
                "new invite.",
                confirm_label="Leave organization",
                on_confirm=MembersState.leave,
                style=NOWRAP,
            ),
        ),
        spacing="2",
        wrap="wrap",  # a narrow column stacks its buttons rather than spill over the next
    )


# A member who may not invite (Viewer, Billing Admin; an Agent unless the
# organization lets members invite) reads who can, where the Invite form would be.
NO_INVITES = (
    "You can see who belongs to this organization. "
    "Ask an Admin to invite someone or to change a member's role."
)
MEMBER_COLUMNS = ("Name", "Email", "Role", "Joined", "Actions")
TWO_FACTOR_COLUMN = "Two-factor"  # last: shown to Owners/Admins only
INVITE_COLUMNS = ("Email", "Role", "Sent", "Expires", "Status", "Actions")


def _member_row(member: MemberRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(member.name),
        rx.table.cell(email_text(member.email)),
        rx.table.cell(_role_cell(member)),
        rx.table.cell(rx.text(member.joined, style=NOWRAP)),
        rx.table.cell(_member_actions(member)),
        rx.cond(MembersState.can_manage, rx.table.cell(rx.text(member.two_factor, style=NOWRAP))),
        aria_label="Member " + member.email,
    )


def _member_search() -> rx.Component:
    """Search and sort run on the server, over every member, not just this page."""
    return rx.hstack(
        rx.vstack(
            rx.el.label(
                "Search members",
                html_for="member-search",
                class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
            ),
            rx.input(
                id="member-search",
                type="search",
                placeholder="Name or email",
                default_value=MembersState.member_query,
                on_change=MembersState.search_members.debounce(300),
            ),
            spacing="1",
        ),
        labelled_select(
            "Sort by",
            "member-sort",
            MembersState.member_sort_labels,
            value=MembersState.member_sort,
            on_change=MembersState.sort_members,
        ),
        align="end",
        wrap="wrap",
    )


def members_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Members", size="4"),
                rx.text(
                    MembersState.member_total_label,
                    size="2",
                    color_scheme="gray",
                    high_contrast=True,
                    id="members-found",
                ),
                align="baseline",
            ),
            _member_search(),
            form_error(MembersState.member_errors.get("role", "")),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in MEMBER_COLUMNS],
                        # Owners/Admins see who has two-factor sign-in (SPEC §13)
                        rx.cond(
                            MembersState.can_manage, rx.table.column_header_cell(TWO_FACTOR_COLUMN)
                        ),
                    )
                ),
                rx.table.body(rx.foreach(MembersState.members, _member_row)),
                **styles.table((*MEMBER_COLUMNS, TWO_FACTOR_COLUMN)),
            ),
            rx.cond(
                (MembersState.member_total == 0) & (MembersState.member_query != ""),
                rx.text("No member matches this search.", size="2", color_scheme="gray"),
            ),
            pager(
                "members",
                MembersState.member_page,
                MembersState.member_page_count,
                MembersState.go_to_member_page,
            ),
            rx.cond(  # who cannot invite reads who can
                MembersState.caps.invite_roles.length() == 0,
                read_only_note(NO_INVITES, note_id="members-read-only"),
            ),
            width="100%",
        ),
        width="100%",
    )


def _invite_row(invite: InviteRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(email_text(invite.email)),
        rx.table.cell(rx.text(invite.role, style=NOWRAP)),
        rx.table.cell(rx.text(invite.sent, style=NOWRAP)),
        rx.table.cell(rx.text(invite.expires, style=NOWRAP)),
        rx.table.cell(status_badge(invite.status, style=NOWRAP)),
        rx.table.cell(
            rx.cond(
                MembersState.can_manage,
                rx.flex(
                    rx.button(
                        "Resend",
                        size="1",
                        variant="soft",
                        on_click=MembersState.resend(invite.id),
                        style=NOWRAP,
                    ),
                    confirm_button(
                        "Revoke",
                        size="1",
                        variant="soft",
                        title="Revoke invite",
                        description=(
                            "The invitation link sent to ",
                            rx.text.strong(invite.email),
                            " stops working.",
                        ),
                        confirm_label="Revoke invite",
                        on_confirm=MembersState.revoke(invite.id),
                        style=NOWRAP,
                    ),
                    gap="2",
                    wrap="wrap",  # a narrow column stacks the buttons; none is cut off
                ),
            )
        ),
        aria_label="Invite " + invite.email,
    )


def invite_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Invite Members", size="4"),
            rx.cond(  # what limits invites: support seats replace the plan's limit
                MemberLimitState.member_limit_note != "",
                rx.text(MemberLimitState.member_limit_note, size="2", id="invite-limit-note"),
            ),
            rx.form(
                rx.hstack(
                    rx.vstack(
                        rx.el.label(
                            "Member's email",
                            html_for="invite-email",
                            class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                        ),
                        rx.input(
                            id="invite-email",
                            name="email",
                            type="email",
                            placeholder="name@company.com",
                            width="100%",
                        ),
                        field_error(MembersState.invite_errors, "email"),
                        spacing="1",
                        flex="1",
                    ),
                    rx.vstack(
                        rx.el.label(
                            "Role",
                            html_for="invite-role",
                            class_name="rt-Text rt-r-size-2 rt-r-weight-medium",
                        ),
                        native_select(
                            _role_options(),
                            id="invite-role",
                            name="role",
                            default_value="Agent",
                        ),
                        field_error(MembersState.invite_errors, "role"),
                        spacing="1",
                    ),
                    rx.button("Send Invite", type="submit"),
                    align="end",
                    width="100%",
                ),
                on_submit=MembersState.send_invite,
                key=MembersState.form_key,
                width="100%",
            ),
            form_error(MembersState.invite_errors.get("form", "")),
            rx.cond(  # the seat-limit refusal: a way to more seats, for who may buy them
                MembersState.caps.manage_billing & MembersState.seats_offer,
                rx.link("Add seats", href=routes.ORG_BILLING + "#seats", underline="always"),
            ),
            rx.cond(
                MembersState.resend_offer_id != 0,
                rx.button(
                    "Resend invite",
                    variant="soft",
                    on_click=MembersState.resend(MembersState.resend_offer_id),
                ),
            ),
            rx.cond(
                MembersState.invites.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(h) for h in INVITE_COLUMNS])
                    ),
                    rx.table.body(rx.foreach(MembersState.invites, _invite_row)),
                    **styles.table(INVITE_COLUMNS),
                ),
                rx.text("No pending invites.", size="2", color_scheme="gray", high_contrast=True),
            ),
            pager(
                "invites",
                MembersState.invite_page,
                MembersState.invite_page_count,
                MembersState.go_to_invite_page,
            ),
            width="100%",
        ),
        width="100%",
    )
