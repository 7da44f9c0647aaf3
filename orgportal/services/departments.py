"""Departments (SPEC §7): create, rename, delete, and which members belong to each.

Part of the Support Subscription (SPEC §5): changes need Owner/Admin and an active one.
Reading them does not, so agents can always filter and route tickets by department.
Deleting a department never touches its tickets beyond clearing their department.
"""

from dataclasses import dataclass

from sqlalchemy import func as sa_func
from sqlmodel import Session, col, delete, select, update

from orgportal.models import Department, DepartmentMember, Membership, Ticket, User
from orgportal.services import audit
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.permissions import Permission, organization_row, require
from orgportal.services.support_settings import require_support_admin
from orgportal.services.validation import FieldError, text

MAX_NAME = 60


@dataclass(frozen=True)
class DepartmentMemberView:
    user_id: int
    name: str
    email: str


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str
    members: list[DepartmentMemberView]


def list_departments(session: Session, *, user: User, organization_id: int) -> list[DepartmentView]:
    """Departments by name with their current members (people who left are not shown)."""
    require(session, user, organization_id, Permission.VIEW)
    departments = session.exec(
        select(Department)
        .where(Department.organization_id == organization_id)
        .order_by(sa_func.lower(Department.name))
    ).all()
    rows = session.exec(
        select(DepartmentMember.department_id, User)
        .join(User, col(User.id) == DepartmentMember.user_id)
        .join(
            Membership,
            (col(Membership.user_id) == DepartmentMember.user_id)
            & (col(Membership.organization_id) == organization_id),
        )
        .join(Department, col(Department.id) == DepartmentMember.department_id)
        .where(Department.organization_id == organization_id)
        .order_by(col(User.first_name), col(User.email))
    ).all()
    members: dict[int, list[DepartmentMemberView]] = {}
    for department_id, member in rows:
        members.setdefault(department_id, []).append(
            DepartmentMemberView(member.id, member.display_name, member.email)
        )
    return [DepartmentView(d.id, d.name, members.get(d.id, [])) for d in departments]


def create_department(
    session: Session, *, user: User, organization_id: int, name: str
) -> Department:
    require_support_admin(session, user, organization_id, subscription=True)
    name = _valid_name(session, organization_id, name)
    department = Department(organization_id=organization_id, name=name)
    session.add(department)
    session.flush()
    _audit(
        session, user, organization_id, "support.department_created", f"Department {name} created"
    )
    return department


def rename_department(
    session: Session, *, user: User, organization_id: int, department_id: int, name: str
) -> Department:
    require_support_admin(session, user, organization_id, subscription=True)
    department = _department(session, organization_id, department_id)
    name = _valid_name(session, organization_id, name, keep=department)
    if name == department.name:
        return department
    old, department.name = department.name, name
    session.add(department)
    _audit(
        session,
        user,
        organization_id,
        "support.department_renamed",
        f"Department {old} renamed to {name}",
    )
    return department


def delete_department(
    session: Session, *, user: User, organization_id: int, department_id: int
) -> None:
    """Its tickets stay, unassigned; set here as well as by the foreign key (ON DELETE SET NULL)."""
    require_support_admin(session, user, organization_id, subscription=True)
    department = _department(session, organization_id, department_id)
    session.exec(
        update(Ticket).where(col(Ticket.department_id) == department.id).values(department_id=None)
    )
    session.exec(
        delete(DepartmentMember).where(col(DepartmentMember.department_id) == department.id)
    )
    session.delete(department)
    _audit(
        session,
        user,
        organization_id,
        "support.department_deleted",
        f"Department {department.name} deleted",
    )


def assign_member(
    session: Session, *, user: User, organization_id: int, department_id: int, member_id: int
) -> None:
    require_support_admin(session, user, organization_id, subscription=True)
    department = _department(session, organization_id, department_id)
    member = _member(session, organization_id, member_id)
    if session.get(DepartmentMember, (department.id, member.id)):
        raise Conflict(f"{member.display_name} is already in {department.name}.")
    session.add(DepartmentMember(department_id=department.id, user_id=member.id))
    _audit(
        session,
        user,
        organization_id,
        "support.department_member_added",
        f"{member.email} added to department {department.name}",
    )


def assign_member_by_email(
    session: Session, *, user: User, organization_id: int, department_id: int, email: str
) -> None:
    """The picker's choice: a member of this organization named by their email."""
    require_support_admin(session, user, organization_id, subscription=True)
    wanted = email.strip().lower()
    member = session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.organization_id == organization_id, sa_func.lower(User.email) == wanted)
    ).first()
    if not wanted or member is None:
        raise ValidationFailed({"member": "Choose a member of this organization."})
    assign_member(
        session,
        user=user,
        organization_id=organization_id,
        department_id=department_id,
        member_id=member.id,
    )


def unassign_member(
    session: Session, *, user: User, organization_id: int, department_id: int, member_id: int
) -> None:
    require_support_admin(session, user, organization_id, subscription=True)
    department = _department(session, organization_id, department_id)
    row = session.get(DepartmentMember, (department.id, member_id))
    if row is None:
        raise NotFound("That person is not in this department.")
    member = session.get(User, member_id)
    session.delete(row)
    _audit(
        session,
        user,
        organization_id,
        "support.department_member_removed",
        f"{member.email if member else member_id} removed from department {department.name}",
    )


def valid_name(
    session: Session, organization_id: int, raw: str, keep: Department | None = None
) -> str:
    """A department name as the forms require it (also for SCIM groups, SPEC §16)."""
    return _valid_name(session, organization_id, raw, keep)


def _valid_name(
    session: Session, organization_id: int, raw: str, keep: Department | None = None
) -> str:
    try:
        name = text(raw or "", label="Department name", min_len=1, max_len=MAX_NAME)
    except FieldError as exc:
        raise ValidationFailed({"name": str(exc)}) from exc
    clash = session.exec(
        select(Department).where(
            Department.organization_id == organization_id,
            sa_func.lower(Department.name) == name.lower(),
        )
    ).first()
    if clash is not None and (keep is None or clash.id != keep.id):
        raise ValidationFailed({"name": f"There is already a department called {clash.name}."})
    return name


def _department(session: Session, organization_id: int, department_id: int) -> Department:
    return organization_row(
        session, Department, department_id, organization_id, "Department not found."
    )


def _member(session: Session, organization_id: int, user_id: int) -> User:
    membership = session.exec(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    ).first()
    member = session.get(User, user_id) if membership else None
    if member is None:
        raise NotFound("Member not found.")
    return member


def _audit(session: Session, user: User, organization_id: int, action: str, summary: str) -> None:
    audit.record(
        session, organization_id=organization_id, actor=user, action=action, summary=summary
    )
