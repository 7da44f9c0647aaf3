"""The Support sub-page: Ticket Prefix, Departments and Authorized Domains (Owner/Admin).

Every handler runs its use case through `AppState._act` (`_run`), which reloads this state in
the same transaction; the forms are re-keyed only after that (`_act_form`), so they mount with
what was saved.
"""

import dataclasses

import idna
import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.config import settings
from orgportal.models.support import DEFAULT_TICKET_PREFIX
from orgportal.services import departments, domains, members, plans, support_settings
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState

# The Support Subscription's price per seat, as configured (SEAT_PRICE_PENCE).
SEAT_PRICE = plans.pounds(plans.SEAT_PRICE_PENCE)


@dataclasses.dataclass
class DepartmentMemberChip:
    department_id: int
    user_id: int
    name: str
    email: str


@dataclasses.dataclass
class DepartmentRow:
    id: int
    name: str
    members: list[DepartmentMemberChip]


@dataclasses.dataclass
class DomainRow:
    id: int
    domain: str  # as stored (punycode)
    display: str  # as people read it
    added: str


@dataclasses.dataclass
class MemberOption:
    email: str  # what the picker submits
    label: str


def _readable(domain: str) -> str:
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


class SupportSettingsState(AppState):
    support_active: bool = False
    prefix: str = DEFAULT_TICKET_PREFIX
    intake_url: str = ""
    prefix_errors: dict[str, str] = {}
    prefix_key: int = 0
    departments: list[DepartmentRow] = []
    # The department picker's suggestions: the members matching what was typed, found on
    # the server (a big organization's member list is never sent to the page).
    member_matches: list[MemberOption] = []
    department_errors: dict[str, str] = {}
    # A refused rename, by department id (as text): shown beside that department's name.
    rename_errors: dict[str, str] = {}
    # A refused assignment (no such member…), by department id: beside that department's
    # picker, not in a toast.
    assign_errors: dict[str, str] = {}
    department_key: int = 0  # re-keys the create form and every department's rename form
    domains: list[DomainRow] = []
    domain_errors: dict[str, str] = {}
    domain_key: int = 0

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.manage_support:
            self.support_active, self.prefix, self.intake_url = False, DEFAULT_TICKET_PREFIX, ""
            self.departments, self.member_matches, self.domains = [], [], []
            return
        view = support_settings.overview(session, user=viewer.user, organization_id=org_id)
        self.support_active, self.prefix = view.support_active, view.prefix
        self.intake_url = f"{settings.public_url}{routes.public_ticket_intake(view.slug)}"
        listed = departments.list_departments(session, user=viewer.user, organization_id=org_id)
        self.departments = [
            DepartmentRow(
                d.id,
                d.name,
                [DepartmentMemberChip(d.id, m.user_id, m.name, m.email) for m in d.members],
            )
            for d in listed
        ]
        authorized = domains.list_domains(session, user=viewer.user, organization_id=org_id)
        self.domains = [
            DomainRow(d.id, d.domain, _readable(d.domain), formatting.date(d.created_at))
            for d in authorized
        ]

    @rx.event
    def save_prefix(self, form: dict):
        return self._act_form(
            support_settings.set_ticket_prefix,
            done="Ticket prefix saved. New tickets use it; existing numbers stay.",
            errors="prefix_errors",
            field="prefix",
            key="prefix_key",
            prefix=form.get("prefix", ""),
        )

    @rx.event
    def create_department(self, form: dict):
        name = form.get("name", "")
        return self._act_form(
            departments.create_department,
            done=f"Department {name.strip()} created.",
            errors="department_errors",
            field="name",
            key="department_key",
            name=name,
        )

    @rx.event
    def rename_department(self, form: dict):
        department_id = _int(form.get("department_id"))
        events = self._act(
            departments.rename_department,
            done="Department renamed.",
            errors="rename_errors",
            field="name",
            department_id=department_id,
            name=form.get("name", ""),
        )
        if self.rename_errors:  # shown beside the department renamed
            self.rename_errors = {str(department_id): next(iter(self.rename_errors.values()))}
        else:
            self.department_key += 1  # after the reload: each form mounts with its saved name
        return events

    @rx.event
    def delete_department(self, department_id: int):
        return self._department_change(
            departments.delete_department,
            "Department deleted. Its tickets are now unassigned.",
            department_id=department_id,
        )

    @rx.event
    def find_members(self, query: str):
        """Suggestions for the department picker as the person types."""
        found: list[MemberOption] = []

        def search(session: Session, viewer: Viewer) -> None:
            people = members.search_members(
                session,
                user=viewer.user,
                organization_id=viewer.session.active_org_id or 0,
                query=str(query)[:100],
            )
            found.extend(MemberOption(p.email, f"{p.name} ({p.email})") for p in people)

        events = self._run(search, reload=False)
        self.member_matches = found
        return events

    @rx.event
    def assign_member(self, form: dict):
        self.member_matches = []
        department_id = _int(form.get("department_id"))
        events = self._department_change(
            departments.assign_member_by_email,
            "Member added to the department.",
            errors="assign_errors",
            field="member",
            department_id=department_id,
            email=str(form.get("member_email", "")),
        )
        if self.assign_errors:  # shown beside the department's picker
            self.assign_errors = {str(department_id): next(iter(self.assign_errors.values()))}
        return events

    @rx.event
    def unassign_member(self, department_id: int, member_id: int):
        return self._department_change(
            departments.unassign_member,
            "Member removed from the department.",
            department_id=department_id,
            member_id=member_id,
        )

    def _department_change(self, service, done: str, **arguments):
        """A change to the department rows: the list is re-read by `_act`; the rows' rename
        forms are re-keyed so they show the names as they are now (refusals: a toast)."""
        self.rename_errors, self.assign_errors = {}, {}
        events = self._act(service, done=done, **arguments)
        self.department_key += 1
        return events

    @rx.event
    def add_domain(self, form: dict):
        return self._act_form(
            domains.add_domain,
            done=domains.saved_message(form.get("domain", "")),
            errors="domain_errors",
            field="domain",
            key="domain_key",
            domain=form.get("domain", ""),
        )

    @rx.event
    def remove_domain(self, domain_id: int):
        return self._act(domains.remove_domain, done="Domain removed.", domain_id=domain_id)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
