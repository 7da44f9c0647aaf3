"""The Domains sub-page (issue 17): branded short-link domains, Owner/Admin.

Each domain shows the exact DNS record to create and a Verify button; adding, verifying and
removing run through `AppState._act`, which reloads this state in the same transaction.
"""

import dataclasses
from typing import ClassVar

import idna
import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.models import Organization
from orgportal.services import custom_domains
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.paging import Paged

PAGE_SIZE = 20


@dataclasses.dataclass
class CustomDomainRow:
    id: int
    domain: str  # as stored (punycode)
    display: str  # as people read it
    status: str  # pending, verified, failed
    reason: str  # why the last check failed
    record: str  # TXT _orgportal.go.acme.com "orgportal-verify=…"
    record_name: str
    record_value: str
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

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.domains, self.total, self.limit_label, self.page = [], 0, "", 0
            return
        rows, total = custom_domains.list_domains(
            session,
            user=viewer.user,
            organization_id=org_id,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )
        if not rows and total and self.page:  # the last page emptied: show the one before
            self.page = max(0, -(-total // PAGE_SIZE) - 1)
            rows, total = custom_domains.list_domains(
                session,
                user=viewer.user,
                organization_id=org_id,
                limit=PAGE_SIZE,
                offset=self.page * PAGE_SIZE,
            )
        self.total = total
        self.domains = [
            CustomDomainRow(
                id=row.id,
                domain=row.domain,
                display=_readable(row.domain),
                status=row.status,
                reason=row.failure_reason,
                record=custom_domains.dns_record(row),
                record_name=custom_domains.record_name(row.domain),
                record_value=custom_domains.record_value(row.token),
                added=formatting.date(row.created_at),
            )
            for row in rows
        ]
        limit = custom_domains.domain_limit(session, session.get(Organization, org_id))
        if limit is None:
            self.limit_label = f"{total:,} custom domain{'s' if total != 1 else ''} (unlimited)"
        else:
            self.limit_label = f"{total:,} of {limit:,} custom domains used"

    @rx.event
    def add_domain(self, form: dict):
        domain = form.get("domain", "")
        return self._act_form(
            custom_domains.add_domain,
            done="Domain added. Create the DNS record below, then press Verify.",
            errors="domain_errors",
            field="domain",
            key="domain_key",
            domain=domain,
        )

    @rx.event
    def verify_domain(self, domain_id: int):
        refused = self._run(lambda session, viewer: _verify(session, viewer, domain_id))
        if refused is not None:
            return refused
        row = next((d for d in self.domains if d.id == domain_id), None)
        if row is None:
            return None
        if row.status == "verified":
            return rx.toast.success(f"{row.display} is verified.")
        return rx.toast.error(f"{row.display} could not be verified: {row.reason}.")

    @rx.event
    def remove_domain(self, domain_id: int):
        return self._act(custom_domains.remove_domain, done="Domain removed.", domain_id=domain_id)



def _verify(session: Session, viewer: Viewer, domain_id: int) -> None:
    custom_domains.verify_domain(
        session,
        user=viewer.user,
        organization_id=viewer.session.active_org_id,
        domain_id=domain_id,
    )
