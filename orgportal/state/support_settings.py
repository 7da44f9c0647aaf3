"""Ticket Prefix, Departments and Authorized Domains cards on the organization page."""

import dataclasses

import idna
import reflex as rx

from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import departments, domains, members, support_settings
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.state.base import AppState


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
    user_id: str
    label: str


def _readable(domain: str) -> str:
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


class SupportSettingsState(AppState):
    can_manage: bool = False
    support_active: bool = False
    prefix: str = "TKT"
    intake_url: str = ""
    prefix_errors: dict[str, str] = {}
    prefix_key: int = 0
    departments: list[DepartmentRow] = []
    member_options: list[MemberOption] = []
    department_errors: dict[str, str] = {}
    department_key: int = 0
    domains: list[DomainRow] = []
    domain_errors: dict[str, str] = {}
    domain_key: int = 0

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org_id = viewer.session.active_org_id
                if not org_id:
                    self.can_manage = False
                    return
                view = support_settings.overview(session, user=viewer.user, organization_id=org_id)
                self.can_manage, self.support_active = view.can_manage, view.support_active
                self.prefix = view.prefix
                self.intake_url = (
                    f"{settings.public_url}/api/public/organizations/{view.slug}/tickets"
                )
                if not view.can_manage:
                    return
                listed = departments.list_departments(
                    session, user=viewer.user, organization_id=org_id
                )
                people = members.list_members(session, user=viewer.user, organization_id=org_id)
                authorized = domains.list_domains(session, user=viewer.user, organization_id=org_id)
        except NotAuthenticated:
            return self._to_login()
        except DomainError:
            self.can_manage = False
            return
        self.departments = [
            DepartmentRow(
                d.id,
                d.name,
                [DepartmentMemberChip(d.id, m.user_id, m.name, m.email) for m in d.members],
            )
            for d in listed
        ]
        self.member_options = [
            MemberOption(str(p.user_id), f"{p.name} ({p.email})") for p in people
        ]
        self.domains = [
            DomainRow(d.id, d.domain, _readable(d.domain), d.created_at.strftime("%d %b %Y"))
            for d in authorized
        ]

    @rx.event
    def save_prefix(self, form: dict):
        self.prefix_errors = {}
        prefix = form.get("prefix", "")
        return self._change(
            lambda s, u, org: support_settings.set_ticket_prefix(
                s, user=u, organization_id=org, prefix=prefix
            ),
            "Ticket prefix saved. New tickets use it; existing numbers stay.",
            errors="prefix",
        )

    @rx.event
    def create_department(self, form: dict):
        name = form.get("name", "")
        return self._change(
            lambda s, u, org: departments.create_department(
                s, user=u, organization_id=org, name=name
            ),
            f"Department {name.strip()} created.",
            errors="department",
        )

    @rx.event
    def rename_department(self, form: dict):
        department_id, name = _int(form.get("department_id")), form.get("name", "")
        return self._change(
            lambda s, u, org: departments.rename_department(
                s, user=u, organization_id=org, department_id=department_id, name=name
            ),
            "Department renamed.",
        )

    @rx.event
    def delete_department(self, department_id: int):
        return self._change(
            lambda s, u, org: departments.delete_department(
                s, user=u, organization_id=org, department_id=department_id
            ),
            "Department deleted. Its tickets are now unassigned.",
        )

    @rx.event
    def assign_member(self, form: dict):
        department_id, member_id = _int(form.get("department_id")), _int(form.get("user_id"))
        return self._change(
            lambda s, u, org: departments.assign_member(
                s, user=u, organization_id=org, department_id=department_id, member_id=member_id
            ),
            "Member added to the department.",
        )

    @rx.event
    def unassign_member(self, department_id: int, member_id: int):
        return self._change(
            lambda s, u, org: departments.unassign_member(
                s, user=u, organization_id=org, department_id=department_id, member_id=member_id
            ),
            "Member removed from the department.",
        )

    @rx.event
    def add_domain(self, form: dict):
        domain = form.get("domain", "")
        return self._change(
            lambda s, u, org: domains.add_domain(s, user=u, organization_id=org, domain=domain),
            "Domain authorized.",
            errors="domain",
        )

    @rx.event
    def remove_domain(self, domain_id: int):
        return self._change(
            lambda s, u, org: domains.remove_domain(
                s, user=u, organization_id=org, domain_id=domain_id
            ),
            "Domain removed.",
        )

    def _change(self, action, done: str, errors: str = ""):
        """Run one service call; refusals go beside the card's field (`errors`) or to a toast."""
        if errors:
            setattr(self, f"{errors}_errors", {})
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                action(session, viewer.user, viewer.session.active_org_id or 0)
        except NotAuthenticated:
            return self._to_login()
        except DomainError as exc:
            if not errors:
                return rx.toast.error(exc.message)
            field = "name" if errors == "department" else errors
            messages = exc.errors if isinstance(exc, ValidationFailed) else {field: exc.message}
            setattr(self, f"{errors}_errors", messages)
            return
        if errors:
            setattr(self, f"{errors}_key", getattr(self, f"{errors}_key") + 1)
        return [SupportSettingsState.load, rx.toast.success(done)]


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
