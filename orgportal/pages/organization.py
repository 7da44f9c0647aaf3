"""The organization's sub-pages (SPEC §2–§6), each its own route with the sidebar:
Overview, Members, Billing, Support and Settings. `/organization` is the overview; in the
Personal Workspace, its own overview (or, for someone with no organization, the create form)."""

import reflex as rx

from orgportal import routes
from orgportal.components.layout import organization_frame, page_frame
from orgportal.state.base import AppState
from orgportal.state.organization import OrgState
from orgportal.views.billing import checkout_notice, plan_card, plan_summary, support_card
from orgportal.views.business_details import business_details_card
from orgportal.views.company_domains import company_domains_card, join_offer, join_requests_card
from orgportal.views.custom_domains import custom_domains_section
from orgportal.views.members import invite_card, members_card
from orgportal.views.org_security import security_card
from orgportal.views.organization import (
    create_organization_form,
    danger_zone,
    organization_header,
    profile_card,
    settings_card,
)
from orgportal.views.organization_keys import organization_keys_card
from orgportal.views.personal_workspace import personal_overview
from orgportal.views.scim import scim_card
from orgportal.views.sso import sso_card
from orgportal.views.support_settings import support_settings_section
from orgportal.views.usage import usage_card
from orgportal.views.webhooks import webhooks_section


def overview_page() -> rx.Component:
    """The active organization's overview. In the Personal Workspace: the create form for a
    user with no organization, else the Personal Workspace's own overview (a
    person with organizations sees the form only when they ask for it, at ORG_NEW)."""
    return rx.cond(
        AppState.page_ready & (AppState.active_org_id == 0),
        page_frame(
            join_offer(),  # SPEC §16: "Join Acme" for an address at its company domain
            rx.cond(
                OrgState.my_organizations.length() > 0,
                personal_overview(),
                create_organization_form(),
            ),
        ),
        organization_frame(
            routes.ORGANIZATION, join_offer(), organization_header(), usage_card(), plan_summary()
        ),
    )


def new_organization_page() -> rx.Component:
    """Creating an organization from any workspace: the active one stays until it exists."""
    return page_frame(create_organization_form())


def members_page() -> rx.Component:
    return organization_frame(
        routes.ORG_MEMBERS,
        rx.heading("Members", size="6"),
        join_requests_card(),  # SPEC §16: asked to join by company domain
        members_card(),
        rx.cond(AppState.caps.invite_roles.length() > 0, invite_card()),
    )


def billing_page() -> rx.Component:
    return organization_frame(
        routes.ORG_BILLING,
        rx.heading("Billing", size="6"),
        checkout_notice(),
        plan_card(),
        support_card(),
    )


def support_page() -> rx.Component:
    return organization_frame(
        routes.ORG_SUPPORT, rx.heading("Support", size="6"), support_settings_section()
    )


def settings_page() -> rx.Component:
    return organization_frame(
        routes.ORG_SETTINGS,
        rx.heading("Settings", size="6"),
        profile_card(),
        business_details_card(),
        rx.cond(AppState.caps.edit_organization, settings_card()),
        rx.cond(AppState.caps.edit_organization, security_card()),
        rx.cond(AppState.caps.edit_organization, organization_keys_card()),  # SPEC §17
        rx.cond(AppState.caps.edit_organization, company_domains_card()),
        rx.cond(AppState.caps.edit_organization, sso_card()),  # SPEC §16
        rx.cond(AppState.caps.manage_members, scim_card()),
        rx.cond(AppState.caps.delete_organization, danger_zone()),
    )


def domains_page() -> rx.Component:
    """Branded short-link domains (SPEC §15)."""
    return organization_frame(
        routes.ORGANIZATION_DOMAINS, rx.heading("Domains", size="6"), custom_domains_section()
    )


def webhooks_page() -> rx.Component:
    """Outgoing webhooks (SPEC §17)."""
    return organization_frame(
        routes.ORG_WEBHOOKS, rx.heading("Webhooks", size="6"), webhooks_section()
    )
