"""`/scim/v2/Groups` (RFC 7644 §3): the organization's roles as groups (SPEC §3, §16).

One group per role an Owner or Admin could give (`admin`, `billing_admin`, `agent`,
`viewer`); its members are the provisioned users with that role. Replacing or patching a
group's members changes their roles; the Owner is never a group, and the Owner's role never
changes here. Roles are fixed: groups cannot be created, renamed or deleted.
"""

from typing import Any

from scim2_models import Context, Group, ListResponse, PatchOp
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
from orgportal.api.scim.schema import MAX_RESULTS
from orgportal.api.scim.users import PREFIX, base_url, in_transaction
from orgportal.models import Role
from orgportal.services import scim

router = scim_router(PREFIX + "/Groups", "SCIM")
FILTERS = {"displayName": "display_name", "id": "id"}
FIXED = "The groups are the organization's roles: they cannot be created, renamed or deleted."


def to_group(base: str, role: Role, members: list[scim.Provisioned]) -> Group:
    return Group.model_validate(
        {
            "schemas": [str(Group.__schema__)],
            "id": role.value,
            "displayName": role.label,
            "members": [
                {
                    "value": member.row.public_id,
                    "display": member.row.user_name,
                    "$ref": f"{base}/Users/{member.row.public_id}",
                    "type": "User",
                }
                for member in members
            ]
            or None,
            "meta": {"resourceType": "Group", "location": f"{base}/Groups/{role.value}"},
        }
    )


def _read(session: Session, organization_id: int, base: str, role: Role) -> Group:
    members = scim.group_members(session, organization_id=organization_id, role=role)
    return to_group(base, role, members)


def _dump(request: Request, resource: Any, context: Context) -> dict[str, Any]:
    return resource.model_dump(scim_ctx=context, response_parameters=response_parameters(request))


@router.get("")
async def list_groups(request: Request) -> Response:
    organization_id = await organization_of(request)
    start, count = paging(request, MAX_RESULTS)
    found = eq_filter(request, FILTERS)
    roles = [
        role
        for role in scim.GROUP_ROLES
        if found is None
        or (found[0] == "id" and found[1] == role.value)
        or (found[0] == "display_name" and found[1].lower() == role.label.lower())
    ]
    page = roles[start - 1 : start - 1 + count]
    base = base_url(request)
    groups = await in_transaction(
        lambda session: [_read(session, organization_id, base, role) for role in page]
    )
    listed = ListResponse[Group](
        total_results=len(roles), start_index=start, items_per_page=len(groups), resources=groups
    )
    return scim_response(_dump(request, listed, Context.SEARCH_RESPONSE))


@router.get("/{group_id}")
async def get_group(request: Request, group_id: str) -> Response:
    organization_id = await organization_of(request)
    role = scim.group_role(group_id)
    base = base_url(request)
    group = await in_transaction(lambda session: _read(session, organization_id, base, role))
    return scim_response(_dump(request, group, Context.RESOURCE_QUERY_RESPONSE))


def _member_ids(group: Group) -> list[str]:
    return [member.value for member in group.members or [] if member.value]


def _same_name(group: Group, role: Role) -> None:
    if group.display_name is not None and group.display_name.lower() != role.label.lower():
        raise ScimError(400, FIXED, "mutability")


@router.put("/{group_id}")
async def replace_group(request: Request, group_id: str) -> Response:
    organization_id = await organization_of(request)
    role = scim.group_role(group_id)
    group = Group.model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    _same_name(group, role)
    base = base_url(request)

    def work(session: Session) -> Group:
        members = scim.set_group_members(
            session, organization_id=organization_id, role=role, public_ids=_member_ids(group)
        )
        return to_group(base, role, members)

    result = await in_transaction(work)
    return scim_response(_dump(request, result, Context.RESOURCE_REPLACEMENT_RESPONSE))


@router.patch("/{group_id}")
async def patch_group(request: Request, group_id: str) -> Response:
    """Members added or removed (Okta, Entra ID) change roles; the name stays."""
    organization_id = await organization_of(request)
    role = scim.group_role(group_id)
    patch = PatchOp[Group].model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    base = base_url(request)

    def work(session: Session) -> Group:
        group = _read(session, organization_id, base, role)
        patch.patch(group)
        _same_name(group, role)
        members = scim.set_group_members(
            session, organization_id=organization_id, role=role, public_ids=_member_ids(group)
        )
        return to_group(base, role, members)

    result = await in_transaction(work)
    return scim_response(_dump(request, result, Context.RESOURCE_PATCH_RESPONSE))


@router.post("")
async def create_group(request: Request) -> Response:
    await organization_of(request)
    raise ScimError(403, FIXED)


@router.delete("/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    await organization_of(request)
    scim.group_role(group_id)
    raise ScimError(403, FIXED)
