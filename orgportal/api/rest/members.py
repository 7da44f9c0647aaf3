"""`/api/organizations/{id}/members`: list, change role, remove (SPEC §3, §8)."""

from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, Limit, Offset, rest_router
from orgportal.api.rest.path_ids import MemberRef, OrganizationRef
from orgportal.db import unit_of_work
from orgportal.services import members, public_ids
from orgportal.services.errors import NotFound

router = rest_router("/organizations/{organization_id}/members", "members")


def _out(member: members.Member, user_ids: dict[int, str]) -> s.MemberOut:
    return s.MemberOut(
        user_id=user_ids[member.user_id],
        name=member.name,
        email=member.email,
        role=member.role,
        joined_at=member.joined_at,
    )


@router.get("", summary="Members, oldest first")
def list_members(
    organization_id: OrganizationRef, caller: Caller, limit: Limit = 50, offset: Offset = 0
) -> s.MemberPage:
    with unit_of_work() as session:
        found, total = members.page_members(
            session, user=caller.user, organization_id=organization_id, limit=limit, offset=offset
        )
        ids = public_ids.user_ids(session, (m.user_id for m in found))
    return s.MemberPage(
        items=[_out(m, ids) for m in found], total=total, limit=limit, offset=offset
    )


@router.patch("/{user_id}", summary="Change a member's role (Owner or Admin)")
def change_role(
    organization_id: OrganizationRef, user_id: MemberRef, body: s.RoleChange, caller: Caller
) -> s.MemberOut:
    """The Owner's role never changes here; ownership moves only by transfer."""
    with unit_of_work() as session:
        members.change_role(
            session,
            user=caller.user,
            organization_id=organization_id,
            member_id=user_id,
            role=body.role.value,
        )
        found = members.list_members(session, user=caller.user, organization_id=organization_id)
        ids = public_ids.user_ids(session, [user_id])
    member = next((m for m in found if m.user_id == user_id), None)
    if member is None:  # removed by someone else meanwhile
        raise NotFound("Member not found.")
    return _out(member, ids)


@router.delete("/{user_id}", summary="Remove a member (Owner or Admin; never the Owner)")
def remove_member(
    organization_id: OrganizationRef, user_id: MemberRef, caller: Caller
) -> s.MessageOut:
    with unit_of_work() as session:
        members.remove_member(
            session, user=caller.user, organization_id=organization_id, member_id=user_id
        )
    return s.MessageOut(message="Member removed")
