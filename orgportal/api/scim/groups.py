"""`/scim/v2/Groups` (RFC 7644 §3): the organization's roles, then its departments.

- **Role groups** (`admin`, `billing_admin`, `agent`, `viewer`; SPEC §3): members are the
  provisioned users with that role; replacing or patching the members changes roles. The
  Owner is never a group. Roles are fixed: they cannot be created, renamed or deleted.
- **Department groups** (`department-<n>`; `services/scim_departments.py`): any other
  group a provider pushes is a department, created, renamed and deleted with it.
"""

from dataclasses import dataclass
from typing import Any

from scim2_models import Context, ListResponse, PatchOp
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from orgportal.api.scim.protocol import (
    ScimError,
    eq_filter,
    organization_of,
    paging,
    read_json,
    response_parameters,
    scim_response,
    scim_router,
)
from orgportal.api.scim.schema import MAX_RESULTS, Group
from orgportal.api.scim.users import PREFIX, base_url, in_transaction
from orgportal.models import Role
from orgportal.services import scim, scim_departments
from orgportal.services.errors import NotFound
from orgportal.services.scim_departments import DepartmentGroup

router = scim_router(PREFIX + "/Groups", "SCIM")
FILTERS = {"displayName": "display_name", "id": "id", "externalId": "external_id"}
FIXED = "This group is a role: roles cannot be renamed or deleted (only their members change)."


@dataclass(frozen=True)
class Found:
    """The group a request is about: a role or a department."""

    role: Role | None = None
    department: DepartmentGroup | None = None


def _members(base: str, members: list[scim.Provisioned]) -> list[dict[str, Any]] | None:
    listed = [
        {"value": m.row.public_id, "$ref": f"{base}/Users/{m.row.public_id}", "type": "User"}
        for m in members
    ]
    return listed or None


def role_group(base: str, role: Role, members: list[scim.Provisioned]) -> Group:
    return Group.model_validate(
        {
            "schemas": [str(Group.__schema__)],
            "id": role.value,
            "displayName": role.label,
            "members": _members(base, members),
            "meta": {"resourceType": "Group", "location": f"{base}/Groups/{role.value}"},
        }
    )


def department_group(base: str, group: DepartmentGroup) -> Group:
    meta: dict[str, Any] = {
        "resourceType": "Group",
        "location": f"{base}/Groups/{group.group_id}",
        "created": group.department.created_at.isoformat(),
    }
    if group.scim is not None:
        meta.update(
            lastModified=group.scim.updated_at.isoformat(), version=f'W/"{group.scim.version}"'
        )
    return Group.model_validate(
        {
            "schemas": [str(Group.__schema__)],
            "id": group.group_id,
            "externalId": group.external_id or None,
            "displayName": group.department.name,
            "members": _members(base, group.members),
            "meta": meta,
        }
    )


def _role_of(group_id: str) -> Role | None:
    try:
        return scim.group_role(group_id)
    except NotFound:
        return None


def wants_members(request: Request) -> bool:
    """False when the response leaves `members` out (Entra ID looks groups up with
    `excludedAttributes=members`): a big role's members are then not read at all."""
    params = response_parameters(request)
    if params is None:
        return True
    if params.excluded_attributes and _names_members(params.excluded_attributes):
        return False
    return not params.attributes or _names_members(params.attributes)


def _names_members(paths: list[Any]) -> bool:
    return any(str(path).lower().rsplit(":", 1)[-1].startswith("members") for path in paths)


def _read(
    session: Session, organization_id: int, base: str, group_id: str, members: bool = True
) -> Group:
    role = _role_of(group_id)
    if role is not None:
        found = (
            scim.group_members(session, organization_id=organization_id, role=role)
            if members
            else []
        )
        return role_group(base, role, found)
    found = scim_departments.get_group(session, organization_id=organization_id, group_id=group_id)
    return department_group(base, found)


def _dump(request: Request, resource: Any, context: Context) -> dict[str, Any]:
    return resource.model_dump(scim_ctx=context, response_parameters=response_parameters(request))


def _member_ids(group: Group) -> list[str]:
    return [member.value for member in group.members or [] if member.value]


def _roles_matching(found: tuple[str, str] | None) -> list[Role]:
    if found is None:
        return list(scim.GROUP_ROLES)
    key, value = found
    return [
        role
        for role in scim.GROUP_ROLES
        if (key == "id" and value == role.value)
        or (key == "display_name" and value.strip().lower() == role.label.lower())
    ]


@router.get("")
async def list_groups(request: Request) -> Response:
    """The role groups first, then the departments, one page of them."""
    organization_id = await organization_of(request)
    start, count = paging(request, MAX_RESULTS)
    found = eq_filter(request, FILTERS)
    roles = _roles_matching(found)
    role_page = roles[start - 1 : start - 1 + count]
    base = base_url(request)
    department_filter: dict[str, Any] = {}
    if found is not None:
        key, value = found
        if key == "id":
            department_filter["department"] = scim_departments.department_id(value) or 0
        else:
            department_filter[key] = value

    members = wants_members(request)

    def work(session: Session) -> tuple[list[Group], int]:
        groups = [
            role_group(base, role, scim.group_members(
                session, organization_id=organization_id, role=role
            ) if members else [])
            for role in role_page
        ]  # fmt: skip
        departments, total = scim_departments.page_groups(
            session,
            organization_id=organization_id,
            offset=max(0, start - 1 - len(roles)),
            limit=count - len(role_page),
            **department_filter,
        )
        groups += [department_group(base, group) for group in departments]
        return groups, len(roles) + total

    groups, total = await in_transaction(work)
    listed = ListResponse[Group](
        total_results=total, start_index=start, items_per_page=len(groups), resources=groups
    )
    return scim_response(_dump(request, listed, Context.SEARCH_RESPONSE))


@router.get("/{group_id}")
async def get_group(request: Request, group_id: str) -> Response:
    organization_id = await organization_of(request)
    base = base_url(request)
    members = wants_members(request)
    group = await in_transaction(
        lambda session: _read(session, organization_id, base, group_id, members)
    )
    return scim_response(_dump(request, group, Context.RESOURCE_QUERY_RESPONSE))


@router.post("")
async def create_group(request: Request) -> Response:
    """A new group is a new department (the roles exist already)."""
    organization_id = await organization_of(request)
    group = Group.model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST
    )
    base = base_url(request)

    def work(session: Session) -> Group:
        created = scim_departments.create_group(
            session,
            organization_id=organization_id,
            name=group.display_name or "",
            external_id=group.external_id or "",
            member_ids=_member_ids(group),
        )
        return department_group(base, created)

    result = await in_transaction(work)
    return scim_response(
        _dump(request, result, Context.RESOURCE_CREATION_RESPONSE), 201,
        Location=result.meta.location,
    )  # fmt: skip


def _save(session: Session, organization_id: int, base: str, group_id: str, group: Group) -> Group:
    """A role group's members (its name stays), or a department's name, externalId, members."""
    role = _role_of(group_id)
    if role is not None:
        if group.display_name is not None and group.display_name.lower() != role.label.lower():
            raise ScimError(400, FIXED, "mutability")
        members = scim.set_group_members(
            session, organization_id=organization_id, role=role, public_ids=_member_ids(group)
        )
        return role_group(base, role, members)
    saved = scim_departments.replace_group(
        session,
        organization_id=organization_id,
        group_id=group_id,
        name=group.display_name or "",
        external_id=group.external_id or "",
        member_ids=_member_ids(group),
    )
    return department_group(base, saved)


@router.put("/{group_id}")
async def replace_group(request: Request, group_id: str) -> Response:
    organization_id = await organization_of(request)
    group = Group.model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    base = base_url(request)
    result = await in_transaction(
        lambda session: _save(session, organization_id, base, group_id, group)
    )
    return scim_response(_dump(request, result, Context.RESOURCE_REPLACEMENT_RESPONSE))


@router.patch("/{group_id}")
async def patch_group(request: Request, group_id: str) -> Response:
    """Members added or removed (what Okta and Entra ID send), or a department renamed:
    applied by scim2-models to the current group, then saved as a replacement."""
    organization_id = await organization_of(request)
    patch = PatchOp[Group].model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    base = base_url(request)

    def work(session: Session) -> Group:
        group = _read(session, organization_id, base, group_id)
        patch.patch(group)
        return _save(session, organization_id, base, group_id, group)

    result = await in_transaction(work)
    return scim_response(_dump(request, result, Context.RESOURCE_PATCH_RESPONSE))


@router.delete("/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    organization_id = await organization_of(request)
    if _role_of(group_id) is not None:
        raise ScimError(400, FIXED, "mutability")
    await in_transaction(
        lambda session: scim_departments.delete_group(
            session, organization_id=organization_id, group_id=group_id
        )
    )
    return Response(status_code=204)
