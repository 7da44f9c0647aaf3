"""`/api/organizations/{id}/invites`: create, list, resend, revoke (SPEC §4, §8).

The same invitation service as the Invite Members form: same seat limit, same email, same
audit entries. The token itself is only ever sent by email, never in an API response.
"""

from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, Id, Limit, Offset, rest_router
from orgportal.api.rest.path_ids import OrganizationRef
from orgportal.db import unit_of_work
from orgportal.models import Invite
from orgportal.services import invitations

router = rest_router("/organizations/{organization_id}/invites", "invites")


def _out(invite: Invite) -> s.InviteOut:
    return s.InviteOut(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        status="expired" if invite.is_expired() else invite.status,
        created_at=invite.created_at,
        sent_at=invite.sent_at,
        expires_at=invite.expires_at,
    )


@router.post("", status_code=201, summary="Invite someone by email (sends the invitation)")
def create_invite(
    organization_id: OrganizationRef, body: s.InviteCreate, caller: Caller
) -> s.InviteOut:
    with unit_of_work() as session:
        invite = invitations.create_invite(
            session,
            user=caller.user,
            organization_id=organization_id,
            email=body.email,
            role=body.role.value,
        )
        session.flush()
        return _out(invite)


@router.get("", summary="Pending invites (expired ones included), newest first")
def list_invites(
    organization_id: OrganizationRef, caller: Caller, limit: Limit = 50, offset: Offset = 0
) -> s.InvitePage:
    with unit_of_work() as session:
        found, total = invitations.page_invites(
            session, user=caller.user, organization_id=organization_id, limit=limit, offset=offset
        )
        page = [_out(i) for i in found]
    return s.InvitePage(items=page, total=total, limit=limit, offset=offset)


@router.post("/{invite_id}/resend", summary="Send again, valid for 7 days from now")
def resend_invite(organization_id: OrganizationRef, invite_id: Id, caller: Caller) -> s.InviteOut:
    with unit_of_work() as session:
        invite = invitations.resend_invite(
            session, user=caller.user, organization_id=organization_id, invite_id=invite_id
        )
        return _out(invite)


@router.delete("/{invite_id}", summary="Revoke: the invitation link stops working at once")
def revoke_invite(organization_id: OrganizationRef, invite_id: Id, caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        invitations.revoke_invite(
            session, user=caller.user, organization_id=organization_id, invite_id=invite_id
        )
    return s.MessageOut(message="Invite revoked")
