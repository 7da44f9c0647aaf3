"""The app: creates rx.App, mounts the HTTP API, registers pages and the mail worker."""

import asyncio
import logging

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.adapters.mail import transport_from_settings
from orgportal.api import build_api, click_recording
from orgportal.api.content import RootShortLinks
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.db import engine
from orgportal.pages.account import account_page
from orgportal.pages.analytics import analytics_page
from orgportal.pages.approvals import approvals_page
from orgportal.pages.audit_log import audit_log_page
from orgportal.pages.auth import confirm_page, login_page, register_page
from orgportal.pages.billing_test_mode import test_checkout_page, test_portal_page
from orgportal.pages.content import files_page, links_page
from orgportal.pages.invite import invite_page
from orgportal.pages.not_found import not_found_page
from orgportal.pages.organization import (
    billing_page,
    members_page,
    new_organization_page,
    overview_page,
    settings_page,
    support_page,
)
from orgportal.pages.password_reset import (
    email_change_page,
    password_reset_page,
    reset_link_page,
)
from orgportal.pages.projects import project_page, projects_page
from orgportal.pages.security import address_blocked_page, two_factor_required_page
from orgportal.pages.tickets import ticket_page, tickets_page
from orgportal.services import files, logos
from orgportal.services.accounts import Viewer
from orgportal.services.outbox import deliver_pending
from orgportal.state.account import AccountState
from orgportal.state.account_settings import AccountSettingsState
from orgportal.state.analytics import AnalyticsState
from orgportal.state.approvals import ApprovalsState
from orgportal.state.audit_log import AuditLogState
from orgportal.state.auth import ConfirmState, LoginState, RegisterState
from orgportal.state.base import page_load
from orgportal.state.billing import (
    BillingState,
    PersonalPlanState,
    TestCheckoutState,
    TestPortalState,
)
from orgportal.state.business_details import BusinessDetailsState
from orgportal.state.content import FilesState, LinksState
from orgportal.state.invite import InviteState
from orgportal.state.live import dispatch_live_updates
from orgportal.state.members import MembersState
from orgportal.state.org_security import OrgSecurityState
from orgportal.state.organization import OrgState
from orgportal.state.password_reset import EmailChangeState, PasswordResetState, ResetLinkState
from orgportal.state.projects import ProjectsState, ProjectState
from orgportal.state.support_settings import SupportSettingsState
from orgportal.state.tickets import TicketsState, TicketState
from orgportal.state.two_factor import SecurityGateState, TwoFactorState
from orgportal.state.usage import UsageState

log = logging.getLogger("orgportal")


async def mail_worker() -> None:
    """Delivers the outbox every second; failures stay queued and are retried."""
    transport = transport_from_settings(settings)
    while True:
        try:
            await asyncio.to_thread(deliver_pending, engine(), transport)
        except Exception:  # keep the worker alive; the message stays in the outbox
            log.exception("mail delivery round failed")
        await asyncio.sleep(1)


def index() -> rx.Component:
    return rx.center(rx.spinner(), min_height="100vh")


def _file_allowance(session: Session, viewer: Viewer) -> int:
    return files.upload_allowance(
        session, user=viewer.user, organization_id=viewer.session.active_org_id
    )


# Each upload handler, and the bytes one upload to it may carry (checked before reading).
UPLOAD_LIMITS = {
    f"{OrgState.get_full_name()}.upload_logo": lambda _session, _viewer: logos.MAX_BYTES,
    f"{FilesState.get_full_name()}.upload": _file_allowance,
}


class OrgportalApp(rx.App):
    """rx.App behind orgportal's gateway: origin rules per kind of route (cookie pages, REST,
    public intake) and security headers on every response (`api/gateway.py`)."""

    def __call__(self):
        return Gateway(super().__call__(), upload_limits=UPLOAD_LIMITS)


# Plain toasts (dark text on the page background): sonner's rich colours fail contrast.
app = OrgportalApp(
    api_transformer=[build_api(), RootShortLinks],
    toaster=rx.toast.provider(rich_colors=False, close_button=True),
    # Loaded in <head> before the page's forms exist: see the file for why.
    head_components=[rx.el.script(src="/forms_before_hydration.js")],
)
app.register_lifespan_task(mail_worker)
app.register_lifespan_task(dispatch_live_updates)
app.register_lifespan_task(click_recording.flush_at_shutdown)  # queued clicks (issue 15)
app.add_page(index, route=routes.HOME, on_load=rx.redirect(routes.ORGANIZATION), title="orgportal")
app.add_page(
    login_page,
    route=routes.LOGIN,
    on_load=LoginState.start_over,  # the password step, not a code step left from before
    title="Sign in · orgportal",
)
app.add_page(
    register_page,
    route=routes.REGISTER,
    on_load=RegisterState.start_over,  # a fresh form, not the last "check your inbox"
    title="Create account · orgportal",
)
app.add_page(
    confirm_page,
    route=routes.CONFIRM,
    on_load=ConfirmState.confirm,
    title="Confirm email · orgportal",
)
app.add_page(
    overview_page,
    route=routes.ORGANIZATION,
    on_load=page_load(routes.ORGANIZATION, OrgState, UsageState, BillingState),
    title="Organization · orgportal",
)
app.add_page(
    new_organization_page,
    route=routes.ORG_NEW,
    on_load=page_load(routes.ORG_NEW, OrgState),
    title="New organization · orgportal",
)
app.add_page(
    members_page,
    route=routes.ORG_MEMBERS,
    on_load=page_load(routes.ORG_MEMBERS, MembersState),
    title="Members · orgportal",
)
app.add_page(
    billing_page,
    route=routes.ORG_BILLING,
    on_load=page_load(routes.ORG_BILLING, BillingState),
    title="Billing · orgportal",
)
app.add_page(
    support_page,
    route=routes.ORG_SUPPORT,
    on_load=page_load(routes.ORG_SUPPORT, SupportSettingsState),
    title="Support · orgportal",
)
app.add_page(
    settings_page,
    route=routes.ORG_SETTINGS,
    on_load=page_load(routes.ORG_SETTINGS, OrgState, BusinessDetailsState, OrgSecurityState),
    title="Settings · orgportal",
)
app.add_page(
    audit_log_page,
    route=routes.AUDIT_LOG,
    on_load=page_load(routes.AUDIT_LOG, AuditLogState),
    title="Audit Log · orgportal",
)
app.add_page(
    invite_page, route=routes.INVITE, on_load=InviteState.load, title="Invitation · orgportal"
)
app.add_page(
    test_checkout_page,
    route=routes.TEST_CHECKOUT,
    on_load=page_load(routes.TEST_CHECKOUT, TestCheckoutState),
    title="Test checkout · orgportal",
)
app.add_page(
    test_portal_page,
    route=routes.TEST_PORTAL,
    on_load=page_load(routes.TEST_PORTAL, TestPortalState),
    title="Test billing portal · orgportal",
)
app.add_page(
    links_page,
    route=routes.LINKS,
    on_load=page_load(routes.LINKS, LinksState, UsageState),
    title="Links · orgportal",
)
app.add_page(
    files_page,
    route=routes.FILES,
    on_load=page_load(routes.FILES, FilesState, UsageState),
    title="My Files · orgportal",
)
# Projects and the link Approval queue (issue 15, part A).
app.add_page(
    projects_page,
    route=routes.PROJECTS,
    on_load=page_load(routes.PROJECTS, ProjectsState),
    title="Projects · orgportal",
)
app.add_page(
    project_page,
    route=routes.PROJECT,
    on_load=page_load(routes.PROJECT, ProjectState),
    title="Project · orgportal",
)
app.add_page(
    approvals_page,
    route=routes.APPROVALS,
    on_load=page_load(routes.APPROVALS, ApprovalsState),
    title="Approval · orgportal",
)
# Analytics of the active workspace (issue 15, part B).
app.add_page(
    analytics_page,
    route=routes.ANALYTICS,
    on_load=page_load(routes.ANALYTICS, AnalyticsState),
    title="Analytics · orgportal",
)
app.add_page(
    tickets_page,
    route=routes.TICKETS,
    on_load=page_load(routes.TICKETS, TicketsState),
    title="Tickets · orgportal",
)
app.add_page(
    ticket_page,
    route=routes.TICKET,
    on_load=page_load(routes.TICKET, TicketState),
    title="Ticket · orgportal",
)
app.add_page(
    account_page,
    route=routes.ACCOUNT,
    on_load=page_load(
        routes.ACCOUNT, AccountState, PersonalPlanState, TwoFactorState, AccountSettingsState
    ),
    title="Account · orgportal",
)
# Where an organization's Security settings send a refused member (SPEC §13).
app.add_page(
    two_factor_required_page,
    route=routes.TWO_FACTOR_REQUIRED,
    on_load=page_load(routes.TWO_FACTOR_REQUIRED, SecurityGateState, TwoFactorState),
    title="Set up two-factor sign-in · orgportal",
)
app.add_page(
    address_blocked_page,
    route=routes.ADDRESS_BLOCKED,
    on_load=page_load(routes.ADDRESS_BLOCKED, SecurityGateState),
    title="Address not allowed · orgportal",
)
app.add_page(
    password_reset_page,
    route=routes.PASSWORD_RESET,
    on_load=PasswordResetState.start_over,  # a fresh form, not the last "check your inbox"
    title="Reset password · orgportal",
)
app.add_page(
    reset_link_page,
    route=routes.PASSWORD_RESET_LINK,
    on_load=ResetLinkState.check,
    title="Choose a new password · orgportal",
)
app.add_page(
    email_change_page,
    route=routes.EMAIL_CHANGE,
    on_load=EmailChangeState.confirm,
    title="Email change · orgportal",
)
# Any unknown path: Reflex serves the page registered under the route "404".
app.add_page(not_found_page, route="404", title="Page not found · orgportal")
