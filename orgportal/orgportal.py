"""The app: creates rx.App, mounts the HTTP API, registers pages and the mail worker."""

import asyncio
import logging

import reflex as rx
from sqlmodel import Session

from orgportal import routes
from orgportal.adapters.mail import transport_from_settings
from orgportal.api import build_api
from orgportal.api.content import RootShortLinks
from orgportal.api.gateway import Gateway
from orgportal.config import settings
from orgportal.db import engine
from orgportal.pages.account import account_page
from orgportal.pages.audit_log import audit_log_page
from orgportal.pages.auth import confirm_page, login_page, register_page
from orgportal.pages.billing_test_mode import test_checkout_page, test_portal_page
from orgportal.pages.content import files_page, links_page
from orgportal.pages.invite import invite_page
from orgportal.pages.organization import organization_page
from orgportal.pages.tickets import tickets_page
from orgportal.services import files, logos
from orgportal.services.accounts import Viewer
from orgportal.services.outbox import deliver_pending
from orgportal.state.account import AccountState
from orgportal.state.audit_log import AuditLogState
from orgportal.state.auth import ConfirmState, RegisterState
from orgportal.state.billing import TestCheckoutState, TestPortalState
from orgportal.state.content import FilesState, LinksState
from orgportal.state.invite import InviteState
from orgportal.state.live import dispatch_live_updates
from orgportal.state.organization import OrgState
from orgportal.state.tickets import TicketsState
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


app = OrgportalApp(api_transformer=[build_api(), RootShortLinks])
app.register_lifespan_task(mail_worker)
app.register_lifespan_task(dispatch_live_updates)
app.add_page(index, route=routes.HOME, on_load=rx.redirect(routes.ORGANIZATION), title="orgportal")
app.add_page(login_page, route=routes.LOGIN, title="Sign in · orgportal")
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
    organization_page,
    route=routes.ORGANIZATION,
    on_load=[OrgState.load, UsageState.load],
    title="Organization · orgportal",
)
app.add_page(
    audit_log_page,
    route=routes.AUDIT_LOG,
    on_load=AuditLogState.load,
    title="Audit Log · orgportal",
)
app.add_page(
    invite_page, route=routes.INVITE, on_load=InviteState.load, title="Invitation · orgportal"
)
app.add_page(
    test_checkout_page,
    route=routes.TEST_CHECKOUT,
    on_load=TestCheckoutState.load,
    title="Test checkout · orgportal",
)
app.add_page(
    test_portal_page,
    route=routes.TEST_PORTAL,
    on_load=TestPortalState.load,
    title="Test billing portal · orgportal",
)
app.add_page(
    links_page,
    route=routes.LINKS,
    on_load=[LinksState.load, UsageState.load],
    title="Links · orgportal",
)
app.add_page(
    files_page,
    route=routes.FILES,
    on_load=[FilesState.load, UsageState.load],
    title="My Files · orgportal",
)
app.add_page(
    tickets_page, route=routes.TICKETS, on_load=TicketsState.load, title="Tickets · orgportal"
)
app.add_page(
    account_page, route=routes.ACCOUNT, on_load=AccountState.load, title="Account · orgportal"
)
