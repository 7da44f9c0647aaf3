"""Company domains and join by domain (SPEC §16), three thin states over
`services/company_domains.py`:

- `CompanyDomainsState`: the Company domains card on /organization/settings (Owner/Admin):
  add, the TXT record to create, Verify now, remove, the join policy; locked below Unlimited.
- `JoinOfferState`: "Join Acme" on the overview for someone whose confirmed address is at a
  verified company domain.
- `JoinRequestsState`: the pending join requests on the Members page, Approve / Decline.
"""

import dataclasses
from typing import ClassVar

import idna
import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.models import CompanyDomain, DomainStatus, JoinPolicy, Role
from orgportal.services import company_domains
from orgportal.services.accounts import Viewer
from orgportal.services.permissions import ASSIGNABLE_ROLES
from orgportal.state.base import AppState
from orgportal.state.outcome import Form
from orgportal.state.paging import Paged

PAGE_SIZE = 20
ROLE_CHOICES = [Role(role).label for role in ASSIGNABLE_ROLES]
POLICY_CHOICES = [company_domains.POLICY_LABELS[policy] for policy in JoinPolicy]


@dataclasses.dataclass
class CompanyDomainRow:
    id: int
    domain: str  # as stored (punycode)
    display: str  # as people read it
    status: str  # pending, verified, failed
    note: str  # what the status means and what to do next
    last_checked: str
    record_name: str
    record_value: str
    added: str


@dataclasses.dataclass
class JoinRequestRow:
    id: int
    email: str
    name: str
    asked: str


def _readable(domain: str) -> str:
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


class CompanyDomainsState(Paged, AppState):
    PAGE_SIZE: ClassVar[int] = PAGE_SIZE
    available: bool = False
    locked_reason: str = ""
    company_domains: list[CompanyDomainRow] = []
    join_policy: str = "Off"  # a POLICY_CHOICES label
    join_role: str = "Viewer"  # a ROLE_CHOICES label
    company_domain_errors: dict[str, str] = {}
    company_domain_key: int = 0
    policy_errors: dict[str, str] = {}
    policy_key: int = 0
    DOMAIN_FORM: ClassVar[Form] = Form(
        errors="company_domain_errors",
        general="company_domain",
        key="company_domain_key",
        names={"domain": "company_domain"},
    )
    POLICY_FORM: ClassVar[Form] = Form(errors="policy_errors", general="policy", key="policy_key")

    @rx.var
    def policy_choices(self) -> list[str]:
        return POLICY_CHOICES

    @rx.var
    def role_choices(self) -> list[str]:
        return ROLE_CHOICES

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.available, self.locked_reason, self.company_domains, self.total = False, "", [], 0
            return
        current = company_domains.get_settings(session, user=viewer.user, organization_id=org_id)
        self.available, self.locked_reason = current.available, current.locked_reason
        policy = company_domains.POLICY_LABELS[JoinPolicy(current.policy)]
        role = Role(current.default_role).label
        if (policy, role) != (self.join_policy, self.join_role):
            self.join_policy, self.join_role = policy, role
            self.policy_key += 1  # the form mounts again with what is saved
        rows = self._read_page(
            lambda limit, offset: company_domains.list_domains(
                session, user=viewer.user, organization_id=org_id, limit=limit, offset=offset
            )
        )
        self.company_domains = [_row(session, row) for row in rows]

    @rx.event
    def add_company_domain(self, form: dict):
        return self._act(
            company_domains.add_domain,
            form=self.DOMAIN_FORM,
            done="Company domain added. Create the TXT record below, then press Verify now.",
            domain=str(form.get("company_domain", "")),
        ).events

    @rx.event
    def verify_company_domain(self, domain_id: int):
        outcome = self._act(company_domains.verify_domain, domain_id=domain_id)
        if not outcome.ok:
            return outcome.events
        row: CompanyDomain = outcome.value
        shown = _readable(row.domain)
        if row.status == DomainStatus.VERIFIED:
            return rx.toast.success(f"{shown} is verified.")
        if row.status == DomainStatus.PENDING:
            return rx.toast.info(
                f"{shown}: the TXT record was not found yet. DNS changes can take a while."
            )
        return rx.toast.error(f"{shown} could not be verified: {row.failure_reason}.")

    @rx.event
    def remove_company_domain(self, domain_id: int):
        return self._act(
            company_domains.remove_domain, done="Company domain removed.", domain_id=domain_id
        ).events

    @rx.event
    def save_join_policy(self, form: dict):
        policy = {label: key for key, label in company_domains.POLICY_LABELS.items()}.get(
            str(form.get("policy", "")), ""
        )
        role = {Role(r).label: r.value for r in ASSIGNABLE_ROLES}.get(
            str(form.get("default_role", "")), ""
        )
        return self._act(
            company_domains.set_join_policy,
            form=self.POLICY_FORM,
            done="Join by company domain saved.",
            policy=str(policy),
            default_role=role,
        ).events


def _row(session: Session, row: CompanyDomain) -> CompanyDomainRow:
    checked = ""
    if row.checked_at is not None:
        checked = f"Last checked {formatting.date_time(row.checked_at)}"
        if row.status == DomainStatus.PENDING and row.failure_reason:
            checked += f": TXT record {row.failure_reason}"
        checked += "."
    return CompanyDomainRow(
        id=row.id,
        domain=row.domain,
        display=_readable(row.domain),
        status=row.status,
        note=company_domains.status_note(session, row),
        last_checked=checked,
        record_name=company_domains.custom_domains.record_name(row.domain),
        record_value=company_domains.custom_domains.record_value(row.token),
        added=formatting.date(row.created_at),
    )


class JoinOfferState(AppState):
    """ "Join Acme": at most one offer (a domain is verified by one organization)."""

    offer_org_id: int = 0
    offer_org_name: str = ""
    offer_domain: str = ""
    offer_policy: str = ""  # automatic or request
    offer_role: str = ""
    offer_requested: bool = False

    def _load(self, session: Session, viewer: Viewer) -> None:
        offer = company_domains.join_offer(session, viewer.user)
        self.offer_org_id = offer.organization_id if offer else 0
        self.offer_org_name = offer.organization_name if offer else ""
        self.offer_domain = _readable(offer.domain) if offer else ""
        self.offer_policy = offer.policy if offer else ""
        self.offer_role = offer.role if offer else ""
        self.offer_requested = bool(offer and offer.requested)

    @rx.event
    async def join(self):
        organization_id, name = self.offer_org_id, self.offer_org_name
        if not organization_id:
            return None
        joined = {}

        def join(session: Session, viewer: Viewer) -> None:
            joined["now"] = company_domains.join_by_domain(
                session, viewer=viewer, organization_id=organization_id
            )

        if self.offer_policy == JoinPolicy.AUTOMATIC:
            # joins and opens the organization: this overview is filled for it at once
            self.workspace_key += 1
            refused = await self._fill_page(routes.ORGANIZATION, join)
            if refused is not None:
                return refused
            self.offer_org_id = 0
            return rx.toast.success(f"Welcome to {name}.")
        outcome = self._attempt(join)
        if not outcome.ok:
            return outcome.events
        return rx.toast.success(f"Your request to join {name} was sent to its Admins.")

    @rx.event
    def not_now(self):
        organization_id = self.offer_org_id
        return self._run(
            lambda session, viewer: company_domains.dismiss_offer(
                session, user=viewer.user, organization_id=organization_id
            )
        )


class JoinRequestsState(Paged, AppState):
    PAGE_SIZE: ClassVar[int] = PAGE_SIZE
    join_requests: list[JoinRequestRow] = []

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.manage_members:
            self.join_requests, self.total = [], 0
            return
        rows = self._read_page(
            lambda limit, offset: company_domains.list_requests(
                session, user=viewer.user, organization_id=org_id, limit=limit, offset=offset
            )
        )
        self.join_requests = [
            JoinRequestRow(r.id, r.email, r.name, formatting.date_time(r.created_at)) for r in rows
        ]

    @rx.event
    def approve(self, request_id: int):
        return self._act(
            company_domains.approve_request, done="Request approved.", request_id=request_id
        ).events

    @rx.event
    def decline(self, request_id: int):
        return self._act(
            company_domains.decline_request, done="Request declined.", request_id=request_id
        ).events
