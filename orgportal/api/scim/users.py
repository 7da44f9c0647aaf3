"""`/scim/v2/Users` (RFC 7644 §3): create, read, list with `filter` and paging, replace,
patch and delete the users the organization's identity provider provisions. The rules are
`services/scim.py`; here SCIM resources are read and written with `scim2-models`."""

from collections.abc import Callable
from typing import Any, TypeVar

from scim2_models import Context, ListResponse, PatchOp
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from orgportal.api.scim.protocol import (
    eq_filter,
    organization_of,
    paging,
    read_json,
    response_parameters,
    scim_response,
    scim_router,
)
from orgportal.api.scim.schema import MAX_RESULTS, User
from orgportal.db import unit_of_work
from orgportal.services import scim
from orgportal.services.scim import Person, Provisioned

PREFIX = "/scim/v2"
router = scim_router(PREFIX + "/Users", "SCIM")
T = TypeVar("T")
# Filters provisioning clients send (Okta, Entra ID: `userName eq "…"`; `externalId`, `id`)
FILTERS = {"userName": "user_name", "externalId": "external_id", "id": "public_id"}
# What the provider sent that orgportal keeps verbatim; the rest it derives
KEPT = ("userName", "name", "displayName", "active", "emails", "externalId")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


async def in_transaction(work: Callable[[Session], T]) -> T:
    """`work` in one unit of work, off the event loop."""

    def run() -> T:
        with unit_of_work() as session:
            return work(session)

    return await run_in_threadpool(run)


def to_resource(base: str, provisioned: Provisioned) -> User:
    row = provisioned.row
    data: dict[str, Any] = {
        key: value for key, value in provisioned.attributes.items() if key in KEPT
    }
    data.update(
        schemas=[str(User.__schema__)],
        id=row.public_id,
        userName=row.user_name,
        meta={
            "resourceType": "User",
            "created": row.created_at.isoformat(),
            "lastModified": row.updated_at.isoformat(),
            "location": f"{base}/Users/{row.public_id}",
            "version": f'W/"{row.version}"',
        },
    )
    if provisioned.role is not None:
        data["groups"] = [
            {
                "value": provisioned.role.value,
                "display": provisioned.role.label,
                "$ref": f"{base}/Groups/{provisioned.role.value}",
                "type": "direct",
            }
        ]
    return User.model_validate(data)


def to_person(user: User) -> Person:
    """What the services need from a validated User: the account's email is the primary
    address (else the first); a new account is named by `name`, else `displayName`."""
    emails = user.emails or []
    chosen = next((email for email in emails if email.primary), emails[0] if emails else None)
    first = (user.name.given_name if user.name else None) or ""
    last = (user.name.family_name if user.name else None) or ""
    if not first and not last and user.display_name:
        first, _, last = user.display_name.strip().partition(" ")
    attributes = user.model_dump(mode="json", by_alias=True, exclude_none=True, scim_ctx=None)
    return Person(
        user_name=user.user_name or "",
        email=str(chosen.value) if chosen and chosen.value else "",
        first_name=first,
        last_name=last,
        external_id=user.external_id or "",
        active=user.active is not False,  # absent: active (RFC 7643 names no default)
        resource={key: value for key, value in attributes.items() if key in KEPT},
    )


def _dump(request: Request, resource: User, context: Context) -> dict[str, Any]:
    return resource.model_dump(scim_ctx=context, response_parameters=response_parameters(request))


@router.post("")
async def create_user(request: Request) -> Response:
    organization_id = await organization_of(request)
    user = User.model_validate(await read_json(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    base = base_url(request)

    def work(session: Session) -> User:
        created = scim.create_user(session, organization_id=organization_id, person=to_person(user))
        return to_resource(base, created)

    resource = await in_transaction(work)
    return scim_response(
        _dump(request, resource, Context.RESOURCE_CREATION_RESPONSE),
        201,
        Location=resource.meta.location,
    )


@router.get("")
async def list_users(request: Request) -> Response:
    organization_id = await organization_of(request)
    start, count = paging(request, MAX_RESULTS)
    found = eq_filter(request, FILTERS)
    base = base_url(request)

    def work(session: Session) -> tuple[list[User], int]:
        page, total = scim.page_users(
            session,
            organization_id=organization_id,
            offset=start - 1,
            limit=count,
            **({found[0]: found[1]} if found else {}),
        )
        return [to_resource(base, item) for item in page], total

    resources, total = await in_transaction(work)
    listed = ListResponse[User](
        total_results=total, start_index=start, items_per_page=len(resources), resources=resources
    )
    return scim_response(_dump(request, listed, Context.SEARCH_RESPONSE))


@router.get("/{user_id}")
async def get_user(request: Request, user_id: str) -> Response:
    organization_id = await organization_of(request)
    base = base_url(request)

    def work(session: Session) -> User:
        found = scim.get_user(session, organization_id=organization_id, public_id=user_id)
        return to_resource(base, found)

    resource = await in_transaction(work)
    return scim_response(_dump(request, resource, Context.RESOURCE_QUERY_RESPONSE))


@router.put("/{user_id}")
async def replace_user(request: Request, user_id: str) -> Response:
    organization_id = await organization_of(request)
    user = User.model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    base = base_url(request)

    def work(session: Session) -> User:
        replaced = scim.replace_user(
            session, organization_id=organization_id, public_id=user_id, person=to_person(user)
        )
        return to_resource(base, replaced)

    resource = await in_transaction(work)
    return scim_response(_dump(request, resource, Context.RESOURCE_REPLACEMENT_RESPONSE))


@router.patch("/{user_id}")
async def patch_user(request: Request, user_id: str) -> Response:
    """PATCH (RFC 7644 §3.5.2) applied by scim2-models to the current resource, then saved
    as a replacement: the same rules as PUT, atomically (all operations or none)."""
    organization_id = await organization_of(request)
    patch = PatchOp[User].model_validate(
        await read_json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    base = base_url(request)

    def work(session: Session) -> User:
        current = scim.get_user(session, organization_id=organization_id, public_id=user_id)
        resource = to_resource(base, current)
        patch.patch(resource)
        replaced = scim.replace_user(
            session, organization_id=organization_id, public_id=user_id,
            person=to_person(resource),
        )  # fmt: skip
        return to_resource(base, replaced)

    resource = await in_transaction(work)
    return scim_response(_dump(request, resource, Context.RESOURCE_PATCH_RESPONSE))


@router.delete("/{user_id}")
async def delete_user(request: Request, user_id: str) -> Response:
    organization_id = await organization_of(request)
    await in_transaction(
        lambda session: scim.delete_user(
            session, organization_id=organization_id, public_id=user_id
        )
    )
    return Response(status_code=204)
