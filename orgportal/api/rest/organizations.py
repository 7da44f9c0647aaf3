"""`/api/organizations`: create, list, read, update, delete, switch, usage (SPEC §8).

Organizations and users appear by their public ids (`org_…`, `user_…`); paths take them
too (`path_ids.py`).

Thin: each route reads its input, calls the same services as the pages inside one unit of
work, and maps the result to a response model. Refusals are the services' DomainErrors.
"""

from dataclasses import replace

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from orgportal.adapters import worker_cache
from orgportal.api.rest import cached_reads, direct
from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import (
    API_KEY_SECURITY,
    CachedCaller,
    Caller,
    Limit,
    Offset,
    cached_caller,
    rest_router,
)
from orgportal.api.rest.direct import called_directly
from orgportal.api.rest.path_ids import OrganizationPath, OrganizationRef, WorkspaceRef
from orgportal.db import unit_of_work
from orgportal.models import Organization, Role, User
from orgportal.services import (
    accounts,
    billing,
    links,
    members,
    organization_notes,
    projects,
    public_ids,
    usage_cache,
    workspace_tokens,
)
from orgportal.services import organizations as orgs
from orgportal.services.api_keys import ApiCaller
from orgportal.services.errors import NotFound
from orgportal.services.permissions import membership_of

router = rest_router("/organizations", "organizations")
# The polled reads, included before every other router (`rest.routers`): routes are tried
# in order, and each one tried before a match costs a request microseconds.
hot = rest_router("/organizations", "organizations")


# First of all, so matched first: it is the route monitoring scripts poll.
@hot.get(
    "/{organization_id}/usage",
    summary="Pooled usage against the plan's limits",
    response_model=s.UsageOut,
    openapi_extra=API_KEY_SECURITY,  # CachedCaller reads the key itself (one dependency less)
)
@called_directly(direct.organization_params, caller=cached_caller)
async def get_usage(organization_id: OrganizationPath, caller: CachedCaller) -> Response:
    """Polled by monitoring scripts, so served from this worker's caches: the
    caller's access and the usage read stay until the live bus announces a change, and the
    JSON of a cached read is made once. (The caller's access was checked for the
    organization this public id names; an unknown one is a 404.)"""
    pk = public_ids.cached_organization_pk(organization_id) or await run_in_threadpool(
        public_ids.load_organization_pk, organization_id
    )
    if pk is None:
        raise NotFound("Organization not found.")
    read = usage_cache.cached(pk)
    if read is None:
        read = await run_in_threadpool(usage_cache.read, pk)
    body = _usage_json.get(pk)
    if body is None or body[0] is not read:
        body = _usage_json[pk] = (read, _usage_out(read).model_dump_json().encode())
    return Response(body[1], media_type="application/json")


def _summary(organization: Organization, owner_id: str, tier: str) -> dict:
    return {
        "id": organization.public_id,
        "name": organization.name,
        "slug": organization.slug,
        "owner_id": owner_id,
        "subscription_tier": tier,
        "created_at": organization.created_at,
    }


def _detail(session: Session, user: User, organization_id: int) -> s.OrganizationDetail:
    view = orgs.get_organization(session, user=user, organization_id=organization_id)
    org = view.organization
    plan = billing.overview(session, user=user, organization_id=organization_id)
    owner_id = public_ids.of_user(session, members.owner_id(session, organization_id))
    _, link_count = links.list_links(session, user=user, organization_id=org.id, limit=0)
    return s.OrganizationDetail(
        **_summary(org, owner_id, plan.plan.key),
        description=org.description,
        logo_url=org.logo_url,
        role=view.role,
        subscription_status=plan.plan_status or None,
        member_count=view.member_count,
        link_count=link_count,
        project_count=projects.project_count(session, org.id),
        settings=s.OrganizationSettingsOut(
            allow_members_to_invite=org.allow_members_to_invite,
            require_approval_for_links=org.require_approval_for_links,
            default_attribution_window=org.default_attribution_window,
            purpose=org.purpose,
            owner=org.contact_email,
        ),
        updated_at=org.updated_at,
    )


@router.post("", status_code=201, summary="Create an organization (you become its Owner)")
def create_organization(body: s.OrganizationCreate, caller: Caller) -> s.OrganizationOut:
    with unit_of_work() as session:
        org = orgs.create_organization(
            session, user=caller.user, name=body.name, description=body.description
        )
        return s.OrganizationOut(**_summary(org, caller.user.public_id, "free"))


TOTAL_HEADER = "X-Total-Count"


@router.get(
    "",
    summary="Your workspaces: the Personal Workspace first, then organizations",
    description=(
        "A JSON array, as seed 003 shows it: the Personal Workspace (`org_personal`), then "
        "your organizations in the order of the app's workspace switcher: the most recently "
        "used in the app first, then those never opened there, by name. Paginated with "
        f"`limit` and `offset`; `{TOTAL_HEADER}` says how many there are in all."
    ),
    responses={
        200: {
            "headers": {
                TOTAL_HEADER: {
                    "description": "Workspaces in all pages.",
                    "schema": {"type": "integer"},
                }
            }
        }
    },
)
def list_organizations(
    caller: Caller, response: Response, limit: Limit = 50, offset: Offset = 0
) -> list[s.WorkspaceOut]:
    with unit_of_work() as session:
        workspaces = accounts.list_workspaces(session, caller.user)
        items = [
            _workspace(session, caller, w.organization_id)
            for w in workspaces[offset : offset + limit]
        ]
    response.headers[TOTAL_HEADER] = str(len(workspaces))
    return items


def _workspace(session: Session, caller: ApiCaller, organization_id: int | None) -> s.WorkspaceOut:
    active = organization_id == caller.active_org_id
    if organization_id is None:
        return s.WorkspaceOut(
            id=public_ids.PERSONAL, name="Personal Workspace", slug=None, personal=True, role=Role.OWNER,
            member_count=1, joined_at=caller.user.created_at, active=active,
        )  # fmt: skip
    view = orgs.listed_organization(session, user=caller.user, organization_id=organization_id)
    membership = membership_of(session, caller.user, organization_id)
    return s.WorkspaceOut(
        id=view.organization.public_id, name=view.organization.name, slug=view.organization.slug,
        personal=False, role=view.role, member_count=view.member_count,
        joined_at=membership.joined_at, active=active,
    )  # fmt: skip


@hot.get(
    "/{organization_id}",
    summary="Organization details",
    response_model=s.OrganizationDetail,
    openapi_extra=API_KEY_SECURITY,  # CachedCaller reads the key itself
)
@called_directly(direct.organization_params, caller=cached_caller)
async def get_organization(organization_id: OrganizationPath, caller: CachedCaller) -> Response:
    """Polled by scripts, so its JSON is kept per member in this worker
    (`cached_reads`), after CachedCaller's checks of the key and the member's access."""
    pk = public_ids.cached_organization_pk(organization_id) or await run_in_threadpool(
        public_ids.load_organization_pk, organization_id
    )
    if pk is None:
        raise NotFound("Organization not found.")
    body = cached_reads.organizations.get((caller.user.id, pk))
    if body is None:
        body = await run_in_threadpool(_read_detail, caller.user, pk)
    return Response(body, media_type="application/json")


def _read_detail(user: User, organization_id: int) -> bytes:
    token = worker_cache.token()
    with unit_of_work() as session:
        body = cached_reads.json_body(_detail(session, user, organization_id))
    cached_reads.organizations.put(
        (user.id, organization_id),
        body,
        tags=cached_reads.workspace_tags(organization_id, user.id),
        token=token,
    )
    return body


@router.put("/{organization_id}", summary="Update name, description, logo or settings")
def update_organization(
    organization_id: OrganizationRef, body: s.OrganizationUpdate, caller: Caller
) -> s.OrganizationDetail:
    """Owner or Admin. Profile and settings change together or not at all."""
    settings = body.settings or s.OrganizationSettingsIn()
    description = body.description if body.description is not None else settings.description
    with unit_of_work() as session:
        org = orgs.get_organization(
            session, user=caller.user, organization_id=organization_id
        ).organization
        orgs.update_profile(
            session,
            user=caller.user,
            organization_id=organization_id,
            name=org.name if body.name is None else body.name,
            description=org.description if description is None else description,
            logo_url=org.logo_url if body.logo_url is None else body.logo_url,
        )
        if settings.purpose is not None or settings.owner is not None:
            organization_notes.update_notes(
                session, user=caller.user, organization_id=organization_id,
                purpose=settings.purpose, contact_email=settings.owner,
            )  # fmt: skip
        if body.settings is not None:
            current = orgs.OrganizationSettings(
                allow_members_to_invite=org.allow_members_to_invite,
                require_approval_for_links=org.require_approval_for_links,
                default_attribution_window=org.default_attribution_window,
            )
            new = replace(current, **body.settings.chosen())
            orgs.update_settings(
                session, user=caller.user, organization_id=organization_id, new=new
            )
        return _detail(session, caller.user, organization_id)


@router.delete("/{organization_id}", summary="Delete the organization and everything in it")
def delete_organization(organization_id: OrganizationRef, caller: Caller) -> s.MessageOut:
    """Owner only; cancels its subscriptions too. The API needs no typed confirmation."""
    with unit_of_work() as session:
        org = orgs.get_organization(
            session, user=caller.user, organization_id=organization_id
        ).organization
        orgs.delete_organization(
            session,
            user=caller.user,
            organization_id=organization_id,
            confirm_name=org.name,
        )
    return s.MessageOut(message="Organization deleted successfully")


SWITCH_DESCRIPTION = (
    "Answers a workspace token (`token`) carrying that workspace: send it as "
    "`Authorization: Bearer <token>` instead of the key, for an hour, and links and projects "
    "calls act in that workspace. The key itself is not changed: other scripts using it keep "
    "its own workspace. Revoke a token early with `DELETE /api/workspace-token`; revoking "
    "the key ends its tokens too."
)


@router.post(
    "/personal/switch",
    summary="A workspace token for your Personal Workspace",
    description=SWITCH_DESCRIPTION,
)
def switch_to_personal(caller: Caller) -> s.SwitchOut:
    return _switch(caller, None)


@router.post(
    "/{organization_id}/switch",
    summary="A workspace token for an organization (or `org_personal`)",
    description=SWITCH_DESCRIPTION,
)
def switch_organization(organization_id: WorkspaceRef, caller: Caller) -> s.SwitchOut:
    return _switch(caller, organization_id)


def _switch(caller: ApiCaller, organization_id: int | None) -> s.SwitchOut:
    with unit_of_work() as session:
        raw, token, organization, role = workspace_tokens.issue(
            session, caller=caller, organization_id=organization_id
        )
        user = caller.user
        return s.SwitchOut(
            token=raw,
            expires_at=token.expires_at,
            user=s.SwitchUser(id=user.public_id, email=user.email, name=user.display_name),
            organization=s.SwitchWorkspace(
                id=organization.public_id if organization else public_ids.PERSONAL,
                name=organization.name if organization else "Personal Workspace",
                role=role,
            ),
        )


# The JSON of each organization's last read, reused while the cache returns that same read.
_usage_json: dict[int, tuple[usage_cache.UsageRead, bytes]] = {}


def _usage_out(read: usage_cache.UsageRead) -> s.UsageOut:
    view, plan = read.usage, read.usage.plan
    return s.UsageOut(
        usage=s.UsageCounts(
            links=view.usage.links,
            storage_bytes=view.usage.storage_bytes,
            members=view.members,
            domains=read.domains,
        ),
        limits=s.UsageLimits(
            links=plan.links,
            storage_bytes=plan.storage_bytes,
            members=view.seat_limit,
            domains=plan.domains,
        ),
        tier=plan.key,
    )
