"""SCIM groups beyond the roles are the organization's departments (SPEC §7, §16).

An identity provider that pushes a group ("Support EMEA") creates a department of that name;
renaming or deleting the group renames or deletes the department (its tickets stay,
unassigned, as on the Support page), and the group's members are the department's
provisioned members. Departments are part of the Support Subscription (SPEC §5): without
one, changing them is refused as on the Support page. Members who are not provisioned by
SCIM stay in their departments whatever the provider sends.
"""

from dataclasses import dataclass

from sqlalchemy import func as sa_func
from sqlmodel import Session, col, delete, select, update

from orgportal.models import Department, DepartmentMember, ScimDepartment, ScimUser, Ticket
from orgportal.models.base import utcnow
from orgportal.services import audit, departments
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.scim import (
    GROUP_ROLES,
    VIA,
    Provisioned,
    as_provisioned,
    get_user,
    with_member_role,
)
from orgportal.services.support_settings import require_support_subscription
from orgportal.services.validation import FieldError, text

ID_PREFIX = "department-"


@dataclass(frozen=True)
class DepartmentGroup:
    department: Department
    scim: ScimDepartment | None
    members: list[Provisioned]

    @property
    def group_id(self) -> str:
        return f"{ID_PREFIX}{self.department.id}"

    @property
    def external_id(self) -> str:
        return self.scim.external_id if self.scim else ""


def department_id(group_id: str) -> int | None:
    """The department a group id names, or None when it names no department."""
    raw = group_id.removeprefix(ID_PREFIX)
    if not group_id.startswith(ID_PREFIX) or not raw.isdigit() or len(raw) > 10:
        return None
    return int(raw)


def page_groups(
    session: Session,
    *,
    organization_id: int,
    display_name: str | None = None,
    external_id: str | None = None,
    department: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[DepartmentGroup], int]:
    """Departments as groups, oldest first, and how many match (`eq` filters)."""
    matching = [Department.organization_id == organization_id]
    if display_name is not None:
        matching.append(sa_func.lower(Department.name) == display_name.strip().lower())
    if department is not None:
        matching.append(Department.id == department)
    statement = select(Department, ScimDepartment).join(
        ScimDepartment, col(ScimDepartment.department_id) == Department.id, isouter=True
    )
    count = select(sa_func.count()).select_from(Department)
    if external_id is not None:
        count = count.join(ScimDepartment, col(ScimDepartment.department_id) == Department.id)
        matching.append(ScimDepartment.external_id == external_id)
    total = session.exec(count.where(*matching)).one()
    rows = session.exec(
        statement.where(*matching).order_by(col(Department.id)).offset(max(0, offset))
        .limit(max(0, limit))
    ).all()  # fmt: skip
    return [_group(session, organization_id, d, s) for d, s in rows], total


def get_group(session: Session, *, organization_id: int, group_id: str) -> DepartmentGroup:
    department = _department(session, organization_id, group_id)
    return _group(session, organization_id, department, session.get(ScimDepartment, department.id))


def create_group(
    session: Session, *, organization_id: int, name: str, external_id: str, member_ids: list[str]
) -> DepartmentGroup:
    require_support_subscription(session, organization_id)
    department = Department(
        organization_id=organization_id, name=_name(session, organization_id, name)
    )
    session.add(department)
    session.flush()
    session.add(ScimDepartment(department_id=department.id, external_id=_external(external_id)))
    _audit(session, organization_id, "support.department_created",
           f"Department {department.name} created {VIA}")  # fmt: skip
    _set_members(session, organization_id, department, member_ids)
    return get_group(
        session, organization_id=organization_id, group_id=f"{ID_PREFIX}{department.id}"
    )


def replace_group(
    session: Session,
    *,
    organization_id: int,
    group_id: str,
    name: str,
    external_id: str,
    member_ids: list[str],
) -> DepartmentGroup:
    require_support_subscription(session, organization_id)
    department = _department(session, organization_id, group_id)
    name = _name(session, organization_id, name, keep=department)
    if name != department.name:
        old, department.name = department.name, name
        session.add(department)
        _audit(session, organization_id, "support.department_renamed",
               f"Department {old} renamed to {name} {VIA}")  # fmt: skip
    row = session.get(ScimDepartment, department.id) or ScimDepartment(department_id=department.id)
    row.external_id = _external(external_id)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    _set_members(session, organization_id, department, member_ids)
    return get_group(session, organization_id=organization_id, group_id=group_id)


def delete_group(session: Session, *, organization_id: int, group_id: str) -> None:
    """As Delete on the Support page: its tickets stay, unassigned."""
    require_support_subscription(session, organization_id)
    department = _department(session, organization_id, group_id)
    session.exec(
        update(Ticket).where(col(Ticket.department_id) == department.id).values(department_id=None)
    )
    session.exec(
        delete(DepartmentMember).where(col(DepartmentMember.department_id) == department.id)
    )
    session.exec(delete(ScimDepartment).where(col(ScimDepartment.department_id) == department.id))
    session.delete(department)
    _audit(session, organization_id, "support.department_deleted",
           f"Department {department.name} deleted {VIA}")  # fmt: skip


def _set_members(
    session: Session, organization_id: int, department: Department, member_ids: list[str]
) -> None:
    """The department's provisioned members become exactly `member_ids` (SCIM user ids)."""
    wanted = {
        view.row.user_id: view.row
        for view in (
            get_user(session, organization_id=organization_id, public_id=pid)
            for pid in dict.fromkeys(member_ids)
        )
        if view.row.user_id is not None
    }
    current = set(
        session.exec(
            select(DepartmentMember.user_id)
            .join(
                ScimUser,
                (col(ScimUser.user_id) == DepartmentMember.user_id)
                & (col(ScimUser.organization_id) == organization_id),
            )
            .where(DepartmentMember.department_id == department.id)
        ).all()
    )
    for user_id, row in wanted.items():
        if user_id not in current:
            session.add(DepartmentMember(department_id=department.id, user_id=user_id))
            _audit(session, organization_id, "support.department_member_added",
                   f"{row.user_name} added to department {department.name} {VIA}")  # fmt: skip
    for user_id in current - set(wanted):
        session.exec(
            delete(DepartmentMember).where(
                col(DepartmentMember.department_id) == department.id,
                col(DepartmentMember.user_id) == user_id,
            )
        )
        _audit(session, organization_id, "support.department_member_removed",
               f"A provisioned member removed from department {department.name} {VIA}")  # fmt: skip
    session.flush()


def _group(
    session: Session, organization_id: int, department: Department, row: ScimDepartment | None
) -> DepartmentGroup:
    rows = session.exec(
        with_member_role()
        .join(DepartmentMember, col(DepartmentMember.user_id) == ScimUser.user_id)
        .where(
            DepartmentMember.department_id == department.id,
            ScimUser.organization_id == organization_id,
        )
        .order_by(col(ScimUser.id))
    ).all()
    members = [as_provisioned(user, member_role) for user, member_role in rows]
    return DepartmentGroup(department, row, members)


def _department(session: Session, organization_id: int, group_id: str) -> Department:
    wanted = department_id(group_id)
    department = session.get(Department, wanted) if wanted is not None else None
    if department is None or department.organization_id != organization_id:
        raise NotFound(f"Group {group_id} not found.")
    return department


def _name(session: Session, organization_id: int, raw: str, keep: Department | None = None) -> str:
    """A department name, never a role's: the role groups have those (one group per name)."""
    if (raw or "").strip().lower() in {role.label.lower() for role in GROUP_ROLES}:
        raise Conflict(f"{raw.strip()} is a role group; a department needs another name.")
    return departments.valid_name(session, organization_id, raw, keep)


def _external(raw: str) -> str:
    try:
        return text(raw or "", label="externalId", max_len=255, single_line=True)
    except FieldError as exc:
        raise ValidationFailed({"externalId": str(exc)}) from exc


def _audit(session: Session, organization_id: int, action: str, summary: str) -> None:
    audit.record(
        session, organization_id=organization_id, actor=None, action=action, summary=summary
    )
