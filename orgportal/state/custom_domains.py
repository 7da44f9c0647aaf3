"""The Domains sub-page (SPEC §15): branded short-link domains, Owner/Admin.

Each domain lists the DNS records to create (type, name, value, each copied on its own), what
its status means, and a Verify button; adding, verifying and removing run through
`AppState._act`, which reloads this state in the same transaction. While a domain waits for
its records, the page reads its rows again every few seconds, so what the app's background
re-check finds (`custom_domains.recheck_pending`) shows without a reload.
"""

import asyncio
import dataclasses
from datetime import datetime
from typing import ClassVar

import idna
import reflex as rx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from orgportal import formatting, routes
from orgportal.models import CustomDomain, DomainStatus, Organization
from orgportal.models.base import utcnow
from orgportal.services import custom_domains
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.paging import Paged

PAGE_SIZE = 20
WATCH_SECONDS = 5.0  # how often an open page reads pending domains again
WATCH_ROUNDS = 360  # …for at most half an hour; Verify (or a reload) checks after that


@dataclasses.dataclass
class DnsRecordRow:
    type: str  # CNAME, TXT
    name: str
    value: str
    purpose: str


@dataclasses.dataclass
class CustomDomainRow:
    id: int
    domain: str  # as stored (punycode)
    display: str  # as people read it
    status: str  # pending, verified, failed
    reason: str  # why the last check failed, or "not found yet"
    note: str  # what the status means and what to do next
    last_checked: str  # when the records were last looked up, and what was found
    rechecked: bool  # the background re-check still looks it up
    records: list[DnsRecordRow]
    added: str


def _readable(domain: str) -> str:
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


class CustomDomainsState(Paged, AppState):
    PAGE_SIZE: ClassVar[int] = PAGE_SIZE
    domains: list[CustomDomainRow] = []
    limit_label: str = ""  # "1 of 5 custom domains used" / "… (unlimited)"
    domain_errors: dict[str, str] = {}
    domain_key: int = 0
    DOMAIN_FORM: ClassVar[Form] = Form(errors="domain_errors", general="domain", key="domain_key")
    _watching: bool = False  # a `watch_pending` loop runs for this tab

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.domains, self.total, self.limit_label, self.page = [], 0, "", 0
            return
        rows = self._read_page(
            lambda limit, offset: custom_domains.list_domains(
                session, user=viewer.user, organization_id=org_id, limit=limit, offset=offset
            )
        )
        now = utcnow()
        self.domains = [_row(row, now) for row in rows]
        limit = custom_domains.domain_limit(session, session.get(Organization, org_id))
        if limit is None:
            self.limit_label = f"{self.total:,} custom domain{'s' if self.total != 1 else ''} (unlimited)"
        else:
            self.limit_label = f"{self.total:,} of {limit:,} custom domains used"

    @rx.event
    def add_domain(self, form: dict):
        domain = form.get("domain", "")
        outcome = self._act(
            custom_domains.add_domain,
            form=self.DOMAIN_FORM,
            done="Domain added. Create the DNS records below: we check them on our own.",
            domain=domain,
        )
        return [outcome.events, CustomDomainsState.watch_pending] if outcome.ok else outcome.events

    @rx.event
    def verify_domain(self, domain_id: int):
        refused = self._run(lambda session, viewer: _verify(session, viewer, domain_id))
        if refused is not None:
            return refused
        row = next((d for d in self.domains if d.id == domain_id), None)
        if row is None:
            return None
        if row.status == DomainStatus.VERIFIED:
            return rx.toast.success(f"{row.display} is verified.")
        if row.status == DomainStatus.PENDING:
            return rx.toast.info(
                f"{row.display}: the TXT record was not found yet. DNS changes can take up to "
                "48 hours."
            )
        return rx.toast.error(f"{row.display} could not be verified: {row.reason}.")

    @rx.event(background=True)
    async def watch_pending(self):
        """While this page shows a domain the background re-check still looks up, read the
        rows again every WATCH_SECONDS (the DNS lookups run in the app's worker, not here)."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            for _ in range(WATCH_ROUNDS):
                await asyncio.sleep(WATCH_SECONDS)
                async with self:
                    if not self._still_watching():
                        return
                    await run_in_threadpool(self._refresh)
        finally:
            async with self:
                self._watching = False

    def _still_watching(self) -> bool:
        """The tab is signed in and still shows this page (before its first load: wait), and
        a domain on it is still re-checked."""
        if (self.router.url.path or "").rstrip("/") != routes.ORGANIZATION_DOMAINS:
            return False
        if not self.page_ready:
            return True
        return self.signed_in and any(row.rechecked for row in self.domains)

    @rx.event
    def remove_domain(self, domain_id: int):
        return self._act(
            custom_domains.remove_domain, done="Domain removed.", domain_id=domain_id
        ).events


def _row(row: CustomDomain, now: datetime) -> CustomDomainRow:
    return CustomDomainRow(
        id=row.id,
        domain=row.domain,
        display=_readable(row.domain),
        status=row.status,
        reason=row.failure_reason,
        note=custom_domains.status_note(row, now=now),
        last_checked=_last_check(row),
        rechecked=custom_domains.is_rechecked(row, now=now),
        records=[
            DnsRecordRow(record.type, record.name, record.value, record.purpose)
            for record in custom_domains.dns_records(row)
        ],
        added=formatting.date(row.created_at),
    )


def _last_check(row: CustomDomain) -> str:
    """When the records were last looked up and, while pending, what was found: "Last checked
    6 Dec 2026, 12:40 UTC: TXT record not found yet." ("" before the first lookup)."""
    if row.checked_at is None:
        return ""
    said = f"Last checked {formatting.date_time(row.checked_at)}"
    if row.status == DomainStatus.PENDING and row.failure_reason:
        return f"{said}: TXT record {row.failure_reason}."
    return said + "."


def _verify(session: Session, viewer: Viewer, domain_id: int) -> None:
    custom_domains.verify_domain(
        session,
        user=viewer.user,
        organization_id=viewer.session.active_org_id,
        domain_id=domain_id,
    )
