"""Company domains (SPEC §16): the card on the Settings sub-page (Owner/Admin), the "Join
Acme" offer on the overview, and the join requests on the Members page.

"Company domains" say who the organization's people are; they are not the *authorized
domains* of the support plugin nor the *short-link domains* of the Domains page, and the
card says so."""

import reflex as rx

from orgportal import routes
from orgportal.components.badges import status_badge
from orgportal.components.confirm import confirm_button
from orgportal.components.forms import add_form, field_error, native_select
from orgportal.components.layout import VISUALLY_HIDDEN
from orgportal.components.pager import state_pager
from orgportal.components.rows import row_group
from orgportal.state.company_domains import (
    CompanyDomainRow,
    CompanyDomainsState,
    JoinOfferState,
    JoinRequestRow,
    JoinRequestsState,
)

S = CompanyDomainsState
LABEL = "rt-Text rt-r-size-2 rt-r-weight-medium"


def _copyable(text, label, copied: str) -> rx.Component:
    """A value in monospace with its own Copy button (DNS forms want name and value apart)."""
    return rx.hstack(
        rx.code(text, style={"overflow_wrap": "anywhere"}),
        rx.icon_button(
            rx.icon("copy", size=14, aria_hidden="true"),
            size="1",
            variant="ghost",
            aria_label=label,
            title="Copy",
            on_click=[rx.set_clipboard(text), rx.toast.success(copied)],
        ),
        align="center",
        spacing="2",
    )


def _domain(row: CompanyDomainRow) -> rx.Component:
    return row_group(
        rx.hstack(
            rx.text(row.display, weight="bold"),
            rx.cond(row.display != row.domain, rx.code(row.domain)),
            status_badge(row.status),
            rx.text("added ", row.added, size="1", color_scheme="gray", high_contrast=True),
            align="center",
            wrap="wrap",
        ),
        rx.text(
            row.note,
            size="2",
            color_scheme=rx.cond(row.status == "failed", "red", "gray"),
            high_contrast=True,
        ),
        rx.cond(
            row.last_checked != "",
            rx.text(row.last_checked, size="1", color_scheme="gray", high_contrast=True),
        ),
        rx.cond(
            row.status != "verified",
            rx.text("Create this TXT record at your DNS provider:", size="2"),
        ),
        rx.el.dl(
            rx.el.dt("TXT name", class_name=LABEL),
            rx.el.dd(
                _copyable(row.record_name, "Copy TXT name for " + row.domain, "Name copied.")
            ),
            rx.el.dt("TXT value", class_name=LABEL),
            rx.el.dd(
                _copyable(row.record_value, "Copy TXT value for " + row.domain, "Value copied.")
            ),
            style={"margin": "0"},
        ),
        rx.hstack(
            rx.button(
                "Verify now",
                size="1",
                on_click=S.verify_company_domain(row.id),
                aria_label="Verify " + row.domain + " now",
            ),
            confirm_button(
                "Remove",
                size="1",
                variant="soft",
                aria_label="Remove company domain " + row.domain,
                title="Remove company domain",
                description=(
                    "People with an address at ",
                    rx.text.strong(row.display),
                    " are no longer offered to join. Current members stay.",
                ),
                confirm_label="Remove domain",
                on_confirm=S.remove_company_domain(row.id),
            ),
            spacing="2",
        ),
        label="Company domain " + row.domain,
    )


def _policy_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Join by company domain", size="3", as_="h4"),
            rx.text(
                "When someone signs up or signs in with a confirmed address at a verified "
                "company domain, they are offered to join. Each join takes a seat, like an "
                "invite.",
                size="2",
            ),
            rx.hstack(
                rx.vstack(
                    rx.el.label("Join policy", html_for="field-join-policy", class_name=LABEL),
                    native_select(
                        rx.foreach(S.policy_choices, lambda c: rx.el.option(c, value=c)),
                        id="field-join-policy",
                        name="policy",
                        default_value=S.join_policy,
                    ),
                    field_error(S.policy_errors, "policy"),
                    spacing="1",
                ),
                rx.vstack(
                    rx.el.label(
                        "Role for people who join", html_for="field-join-role", class_name=LABEL
                    ),
                    native_select(
                        rx.foreach(S.role_choices, lambda c: rx.el.option(c, value=c)),
                        id="field-join-role",
                        name="default_role",
                        default_value=S.join_role,
                    ),
                    field_error(S.policy_errors, "default_role"),
                    spacing="1",
                ),
                rx.button("Save join policy", type="submit", variant="soft"),
                align="end",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        key=S.policy_key,
        on_submit=S.save_join_policy,
        reset_on_submit=False,
        aria_label="Join by company domain",
        width="100%",
    )


def company_domains_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Company domains", size="4"),
            rx.text(
                "Prove that your company owns an email domain, like acme.com, to offer its "
                "people to join. Not the same as the Domains page's short-link domains, nor "
                "the support plugin's authorized websites.",
                size="2",
            ),
            rx.cond(
                S.available,
                rx.fragment(
                    add_form(
                        "Company domain",
                        "company_domain",
                        "Add company domain",
                        errors=S.company_domain_errors,
                        on_submit=S.add_company_domain,
                        key=S.company_domain_key,
                        placeholder="acme.com",
                        input_id="field-company-domain",
                    ),
                    rx.foreach(S.company_domains, _domain),
                    state_pager("company domains", S),
                    _policy_form(),
                ),
                rx.fragment(
                    rx.callout(
                        S.locked_reason,
                        icon="lock",
                        color_scheme="gray",
                        width="100%",
                        id="company-domains-locked",
                    ),
                    # what was added on a plan with the feature can still be removed
                    rx.foreach(S.company_domains, _domain),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# --- the offer --------------------------------------------------------------------------------


def join_offer() -> rx.Component:
    """ "Join Acme" for someone whose confirmed address is at Acme's verified domain."""
    J = JoinOfferState
    return rx.cond(
        J.offer_org_id != 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("building-2", aria_hidden="true")),
            rx.vstack(
                rx.text(
                    rx.text.strong(J.offer_org_name),
                    " uses orgportal, and your address at ",
                    J.offer_domain,
                    rx.cond(
                        J.offer_policy == "automatic",
                        rx.fragment(" lets you join as ", J.offer_role, "."),
                        " lets you ask to join.",
                    ),
                    size="2",
                ),
                rx.cond(
                    J.offer_requested,
                    rx.text(
                        "Your request to join is waiting for an Admin of ",
                        J.offer_org_name,
                        ".",
                        size="2",
                        id="join-request-waiting",
                    ),
                    rx.hstack(
                        rx.button(
                            rx.cond(
                                J.offer_policy == "automatic",
                                "Join " + J.offer_org_name,
                                "Ask to join " + J.offer_org_name,
                            ),
                            on_click=J.join,
                        ),
                        rx.button(
                            "Not now", variant="soft", color_scheme="gray", on_click=J.not_now
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
                spacing="2",
            ),
            width="100%",
            role="region",
            aria_label="Join " + J.offer_org_name,
        ),
    )


# --- the requests -----------------------------------------------------------------------------


def _request(row: JoinRequestRow) -> rx.Component:
    R = JoinRequestsState
    return rx.table.row(
        rx.table.cell(
            rx.vstack(rx.text(row.name, weight="medium"), rx.text(row.email, size="1"), spacing="0")
        ),
        rx.table.cell(row.asked),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Approve",
                    size="1",
                    on_click=R.approve(row.id),
                    aria_label="Approve " + row.email,
                ),
                rx.button(
                    "Decline",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=R.decline(row.id),
                    aria_label="Decline " + row.email,
                ),
                spacing="2",
            )
        ),
        aria_label="Join request " + row.email,
    )


def join_requests_card() -> rx.Component:
    R = JoinRequestsState
    return rx.cond(
        R.total > 0,
        rx.card(
            rx.vstack(
                rx.heading("Join requests", size="4"),
                rx.text(
                    "People with an address at a company domain who asked to join. Approving "
                    "takes a seat.",
                    size="2",
                ),
                rx.table.root(
                    rx.el.caption("Join requests", style=VISUALLY_HIDDEN),
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Person"),
                            rx.table.column_header_cell("Asked"),
                            rx.table.column_header_cell("Decision"),
                        )
                    ),
                    rx.table.body(rx.foreach(R.join_requests, _request)),
                    width="100%",
                ),
                state_pager("join requests", R),
                rx.link(
                    "Company domains and the join policy",
                    href=routes.ORG_SETTINGS,
                    underline="always",
                    size="2",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )
