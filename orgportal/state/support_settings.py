"""The Support sub-page: Ticket Prefix, Departments and Authorized Domains (Owner/Admin).

Every handler runs its use case through `AppState._act`, which reloads this state in the
same transaction; the forms (their `Form` declarations) are re-keyed only after that, so
they mount with what was saved.
"""

import dataclasses
from typing import ClassVar

import idna
import reflex as rx
from sqlmodel import Session

from orgportal import formatting, routes
from orgportal.config import settings
from orgportal.models.support import DEFAULT_TICKET_PREFIX
from orgportal.services import departments, domains, members, plans, support_settings
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState
from orgportal.state.outcome import Form

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
    PREFIX_FORM: ClassVar[Form] = Form(errors="prefix_errors", general="prefix", key="prefix_key")
    DEPARTMENT_FORM: ClassVar[Form] = Form(
        errors="department_errors", general="name", key="department_key"
    )
    RENAME_FORM: ClassVar[Form] = Form(errors="rename_errors", general="name", key="department_key")
    ASSIGN_FORM: ClassVar[Form] = Form(errors="assign_errors", general="member")
    DOMAIN_FORM: ClassVar[Form] = Form(errors="domain_errors", general="domain", key="domain_key")

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
        return self._act(
            support_settings.set_ticket_prefix,
            form=self.PREFIX_FORM,
            done="Ticket prefix saved. New tickets use it; existing numbers stay.",
            prefix=form.get("prefix", ""),
        ).events

    @rx.event
    def create_department(self, form: dict):
        name = form.get("name", "")
        return self._act(
            departments.create_department,
            form=self.DEPARTMENT_FORM,
            done=f"Department {name.strip()} created.",
            name=name,
        ).events

    @rx.event
    def rename_department(self, form: dict):
        department_id = _int(form.get("department_id"))
        # saved: each row's form mounts again with its name as saved
        outcome = self._act(
            departments.rename_department,
            form=self.RENAME_FORM,
            done="Department renamed.",
            department_id=department_id,
            name=form.get("name", ""),
        )
        if self.rename_errors:  # shown beside the department renamed
            self.rename_errors = {str(department_id): next(iter(self.rename_errors.values()))}
        return outcome.events

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
            form=self.ASSIGN_FORM,
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

    def _department_change(self, service, done: str, *, form: Form | None = None, **arguments):
        """A change to the department rows: the list is re-read by `_act`; the rows' rename
        forms are re-keyed so they show the names as they are now (refusals: a toast, or
        beside the `form`'s field)."""
        self.rename_errors, self.assign_errors = {}, {}
        events = self._act(service, form=form, done=done, **arguments).events
        self.department_key += 1
        return events

    @rx.event
    def add_domain(self, form: dict):
        return self._act(
            domains.add_domain,
            form=self.DOMAIN_FORM,
            done=domains.saved_message(form.get("domain", "")),
            domain=form.get("domain", ""),
        ).events

    @rx.event
    def remove_domain(self, domain_id: int):
        return self._act(domains.remove_domain, done="Domain removed.", domain_id=domain_id).events


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
