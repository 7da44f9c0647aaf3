"""The app: creates rx.App, mounts the HTTP API, registers pages and the mail worker."""

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import reflex as rx
from reflex.app import EventSpec, default_backend_exception_handler
from sqlmodel import Session

from orgportal import routes
from orgportal.adapters import logs, metrics
from orgportal.adapters.mail import transport_from_settings
from orgportal.adapters.server import freeze_startup_objects
from orgportal.api import build_api, click_recording, custom_host
from orgportal.api.content import RootShortLinks
from orgportal.api.gateway import Gateway
from orgportal.components.hydration import hydration_marker
from orgportal.config import settings
from orgportal.db import UNAVAILABLE_MESSAGE, database_unavailable, engine
from orgportal.pages.account import (
    account_page,
    notifications_page,
    plan_page,
    profile_page,
    security_page,
    sessions_page,
)
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
    domains_page,
    members_page,
    new_organization_page,
    overview_page,
    settings_page,
    support_page,
    webhooks_page,
)
from orgportal.pages.password_reset import (
    email_change_page,
    password_reset_page,
    reset_link_page,
)
from orgportal.pages.projects import project_page, projects_page
from orgportal.pages.security import address_blocked_page, two_factor_required_page
from orgportal.pages.ticket_reply import ticket_reply_page
from orgportal.pages.tickets import ticket_page, tickets_page
from orgportal.services import files, logos, webhooks
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
    PlanSummaryState,
    TestCheckoutState,
    TestPortalState,
)
from orgportal.state.business_details import BusinessDetailsState
from orgportal.state.company_domains import (
    CompanyDomainsState,
    JoinOfferState,
    JoinRequestsState,
)
from orgportal.state.content import FilesState, LinksState
from orgportal.state.custom_domains import CustomDomainsState
from orgportal.state.invite import InviteState
from orgportal.state.live import dispatch_live_updates, forget_closed_tabs
from orgportal.state.member_limit import MemberLimitState
from orgportal.state.members import MembersState
from orgportal.state.notification_settings import NotificationSettingsState
from orgportal.state.observability import EventObserver
from orgportal.state.org_security import OrgSecurityState
from orgportal.state.organization import OrgState
from orgportal.state.organization_keys import OrganizationKeysState
from orgportal.state.passkeys import PasskeyState
from orgportal.state.password_reset import EmailChangeState, PasswordResetState, ResetLinkState
from orgportal.state.projects import ProjectsState, ProjectState
from orgportal.state.scim import ScimState
from orgportal.state.sso import MAX_METADATA_BYTES, SsoSettingsState
from orgportal.state.support_settings import SupportSettingsState
from orgportal.state.ticket_reply import TicketReplyState
from orgportal.state.tickets import TicketsState, TicketState
from orgportal.state.two_factor import SecurityGateState, TwoFactorState
from orgportal.state.usage import UsageState
from orgportal.state.webhooks import WebhooksState

log = logging.getLogger("orgportal")


# Seconds a stopping worker waits for the message it is sending (Reflex waits 5 for its tasks).
MAIL_SHUTDOWN_GRACE = 4.5


async def run_outbox(deliver: Callable[[threading.Event], object], what: str) -> None:
    """Runs one outbox's delivery round every second; failures stay queued and are retried.

    On shutdown (SIGTERM) the round in flight finishes the message it is sending and claims
    no other, so no message stays claimed by a worker that is gone, and none is cut off
    halfway and sent twice (SPEC §18)."""
    stop = threading.Event()
    while True:
        round_ = asyncio.ensure_future(asyncio.to_thread(deliver, stop))
        try:
            await asyncio.shield(round_)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait([round_], timeout=MAIL_SHUTDOWN_GRACE)
            if round_.done() and not round_.cancelled() and round_.exception():
                log.error("%s delivery round failed", what, exc_info=round_.exception())
            raise
        except Exception:  # keep the worker alive; the message stays in the outbox
            log.exception("%s delivery round failed", what)
        await asyncio.sleep(1)


async def mail_worker() -> None:
    """The mail outbox (SPEC §10)."""
    transport = transport_from_settings(settings)
    await run_outbox(lambda stop: deliver_pending(engine(), transport, stop=stop), "mail")


async def webhook_worker() -> None:
    """The webhook outbox (SPEC §17): at least once, retried for about a day."""
    await run_outbox(lambda stop: webhooks.deliver_pending(engine(), stop=stop), "webhook")


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
    f"{SsoSettingsState.get_full_name()}.upload_metadata": lambda _session, _viewer: (
        MAX_METADATA_BYTES
    ),
}


def backend_error(exception: Exception) -> EventSpec:
    """A page's event failed. When the database went away mid-event (a restart, a failover:
    SPEC §18) its use case was rolled back as a whole: say so, and that trying again
    works, instead of "contact the administrator". Anything else: Reflex's own handler."""
    if database_unavailable(exception):
        log.warning("database unavailable during a page event: %s", type(exception).__name__)
        return rx.toast.error(
            UNAVAILABLE_MESSAGE,
            id="database-unavailable",
        )
    return default_backend_exception_handler(exception)


class OrgportalApp(rx.App):
    """rx.App behind orgportal's gateway: origin rules per kind of route (cookie pages, REST,
    public intake) and security headers on every response (`api/gateway.py`)."""

    def __call__(self):
        return Gateway(super().__call__(), upload_limits=UPLOAD_LIMITS, host_routing=True)


# The click guard before hydration (assets/before_hydration.js), inline in every <head>.
BEFORE_HYDRATION = (
    Path(__file__).resolve().parents[1] / "assets" / "before_hydration.js"
).read_text()

# Plain toasts (dark text on the page background): sonner's rich colours fail contrast.
app = OrgportalApp(
    api_transformer=[build_api(), RootShortLinks],
    toaster=rx.toast.provider(rich_colors=False, close_button=True),
    # Run in <head> before the page's forms exist: a click made before React has taken
    # the page over is held and made again once it has (see the file for why). Inline, not
    # `src=`: a script file there blocked the page behind its scripts' downloads (it was
    # requested after their 20–60 `modulepreload`s); the CSP lists its hash like Reflex's.
    head_components=[rx.el.script(BEFORE_HYDRATION)],
    stylesheets=["/layout.css"],  # static classes: the frame, usage bars, text fields
    # <html data-hydrated> / data-loaded: when that is (components/hydration.py)
    extra_app_wraps={(3, "HydrationMarker"): hydration_marker},
    backend_exception_handler=backend_error,
)
app.register_lifespan_task(mail_worker)
app.register_lifespan_task(webhook_worker)
app.register_lifespan_task(dispatch_live_updates)
app.register_lifespan_task(forget_closed_tabs)  # a closed tab's live registrations go
app.register_lifespan_task(click_recording.flush_at_shutdown)  # queued clicks (SPEC §14)
# custom domains: pending ones every few minutes for 48 h, verified ones daily
app.register_lifespan_task(custom_host.reverify_worker)
# Operating it (SPEC §18): JSON log lines at LOG_LEVEL in every worker, websocket events
# in the metrics and the logs, a worker's live gauges gone with it (multiprocess metrics).
app.register_lifespan_task(logs.configure)
app.register_lifespan_task(metrics.worker_lifespan)
app.register_lifespan_task(freeze_startup_objects)  # last: the collector skips start-up's objects
app.add_middleware(EventObserver())
app.add_page(index, route=routes.HOME, on_load=rx.redirect(routes.ORGANIZATION), title="orgportal")

# Signed-in pages: (page, route, title, the states its one load event fills: `page_load`).
SIGNED_IN_PAGES = [
    (
        overview_page,
        routes.ORGANIZATION,
        "Organization",
        (OrgState, UsageState, PlanSummaryState, MemberLimitState, JoinOfferState),
    ),
    (new_organization_page, routes.ORG_NEW, "New organization", (OrgState,)),
    (
        members_page,
        routes.ORG_MEMBERS,
        "Members",
        (MembersState, MemberLimitState, JoinRequestsState),
    ),
    (billing_page, routes.ORG_BILLING, "Billing", (BillingState,)),
    (support_page, routes.ORG_SUPPORT, "Support", (SupportSettingsState,)),
    (domains_page, routes.ORGANIZATION_DOMAINS, "Domains", (CustomDomainsState,)),
    (webhooks_page, routes.ORG_WEBHOOKS, "Webhooks", (WebhooksState,)),
    (
        settings_page,
        routes.ORG_SETTINGS,
        "Settings",
        (
            OrgState,
            BusinessDetailsState,
            OrgSecurityState,
            OrganizationKeysState,
            CompanyDomainsState,
            SsoSettingsState,
            ScimState,
        ),
    ),
    (audit_log_page, routes.AUDIT_LOG, "Audit Log", (AuditLogState,)),
    (test_checkout_page, routes.TEST_CHECKOUT, "Test checkout", (TestCheckoutState,)),
    (test_portal_page, routes.TEST_PORTAL, "Test billing portal", (TestPortalState,)),
    (links_page, routes.LINKS, "Links", (LinksState, UsageState)),
    (files_page, routes.FILES, "My Files", (FilesState, UsageState)),
    (projects_page, routes.PROJECTS, "Projects", (ProjectsState,)),
    (project_page, routes.PROJECT, "Project", (ProjectState,)),
    (approvals_page, routes.APPROVALS, "Approval", (ApprovalsState,)),
    (analytics_page, routes.ANALYTICS, "Analytics", (AnalyticsState,)),
    (tickets_page, routes.TICKETS, "Tickets", (TicketsState,)),
    (ticket_page, routes.TICKET, "Ticket", (TicketState,)),
    # the Account page's sections; /account shows the first
    (account_page, routes.ACCOUNT, "Account", (AccountSettingsState,)),
    (profile_page, routes.ACCOUNT_PROFILE, "Profile · Account", (AccountSettingsState,)),
    (
        security_page,
        routes.ACCOUNT_SECURITY,
        "Sign-in & security · Account",
        (AccountSettingsState, TwoFactorState, PasskeyState, AccountState),
    ),
    (sessions_page, routes.ACCOUNT_SESSIONS, "Sessions · Account", (AccountSettingsState,)),
    (plan_page, routes.ACCOUNT_PLAN, "Plan · Account", (PersonalPlanState,)),
    (
        notifications_page,
        routes.ACCOUNT_NOTIFICATIONS,
        "Notifications · Account",
        (NotificationSettingsState,),
    ),
    # where an organization's Security settings send a refused member (SPEC §13)
    (
        two_factor_required_page,
        routes.TWO_FACTOR_REQUIRED,
        "Set up two-factor sign-in",
        (SecurityGateState, TwoFactorState, PasskeyState),
    ),
    (address_blocked_page, routes.ADDRESS_BLOCKED, "Address not allowed", (SecurityGateState,)),
]
# Pages reached signed out or from a link in a mail: each has a load event of its own.
OWN_LOAD_PAGES = [
    # the password step, not a code step left from before
    (login_page, routes.LOGIN, "Sign in", LoginState.load),
    # a fresh form, not the last "check your inbox"
    (register_page, routes.REGISTER, "Create account", RegisterState.start_over),
    (confirm_page, routes.CONFIRM, "Confirm email", ConfirmState.confirm),
    (invite_page, routes.INVITE, "Invitation", InviteState.load),
    (password_reset_page, routes.PASSWORD_RESET, "Reset password", PasswordResetState.start_over),
    (reset_link_page, routes.PASSWORD_RESET_LINK, "Choose a new password", ResetLinkState.check),
    (email_change_page, routes.EMAIL_CHANGE, "Email change", EmailChangeState.confirm),
    # a ticket's requester, from the link in a staff reply's mail (SPEC §17)
    (ticket_reply_page, routes.TICKET_REPLY, "Your ticket", TicketReplyState.load),
]


def own_bundle(component: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """The page, as a function of a module of its own (by name only).

    Reflex 0.10 compiles the memoized parts of every page into one script per Python module
    that defines page functions (`.web/app_components/<module>.jsx`): each organization page
    loaded the parts of all seven (220 KB), the sign-in page those of registration and
    confirmation too. Named after a module of its own, each page's script holds only what
    that page renders (the parts shared by several pages are repeated in each, a few KB)."""

    def page() -> rx.Component:
        return component()

    page.__module__ = f"{component.__module__}.{component.__name__}"
    page.__name__ = page.__qualname__ = component.__name__
    page.__doc__ = component.__doc__
    return page


for component, route, title, states in SIGNED_IN_PAGES:
    app.add_page(
        own_bundle(component),
        route=route,
        on_load=page_load(route, *states),
        title=f"{title} · orgportal",
    )
for component, route, title, load in OWN_LOAD_PAGES:
    app.add_page(own_bundle(component), route=route, on_load=load, title=f"{title} · orgportal")
# Any unknown path: Reflex serves the page registered under the route "404".
app.add_page(not_found_page, route="404", title="Page not found · orgportal")
