"""/organization: the create form, or the active organization's page."""

import reflex as rx

from orgportal.components.layout import page_frame
from orgportal.state.members import MembersState
from orgportal.state.organization import OrgState
from orgportal.views.billing import plan_card, support_card
from orgportal.views.business_details import business_details_card
from orgportal.views.members import invite_card, members_card
from orgportal.views.organization import (
    create_organization_form,
    danger_zone,
    organization_header,
    settings_card,
)
from orgportal.views.support_settings import support_settings_section
from orgportal.views.usage import usage_card


def organization_page() -> rx.Component:
    return page_frame(
        rx.cond(
            ~OrgState.loaded,
            rx.center(rx.spinner(size="3"), padding="4em", width="100%"),
            rx.cond(
                OrgState.org_id == 0,
                create_organization_form(),
                rx.vstack(
                    organization_header(),
                    usage_card(),
                    members_card(),
                    rx.cond(MembersState.can_invite, invite_card()),
                    plan_card(),
                    support_card(),
                    support_settings_section(),
                    business_details_card(),
                    rx.cond(OrgState.can_edit, settings_card()),
                    rx.cond(OrgState.is_owner, danger_zone()),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
