"""The discovery endpoints every SCIM service has (RFC 7644 §4): `ServiceProviderConfig`,
`ResourceTypes` and `Schemas`. They describe the service, not an organization, but answer
only with a valid token, like the rest (RFC 7644 §4 allows either)."""

from typing import Any

from scim2_models import Context, ListResponse, ResourceType, Schema, ServiceProviderConfig
from starlette.requests import Request
from starlette.responses import Response

from orgportal.api.scim.protocol import ScimError, organization_of, scim_response, scim_router
from orgportal.api.scim.schema import PROVIDER, SERVICE_PROVIDER_CONFIG
from orgportal.api.scim.users import PREFIX, base_url

router = scim_router(PREFIX, "SCIM")


def schemas() -> list[Schema]:
    """Our resources' schemas, then the discovery ones (RFC 7643 §7 asks for those too)."""
    return [
        *PROVIDER.schemas,
        Schema.to_schema(),
        ResourceType.to_schema(),
        ServiceProviderConfig.to_schema(),
    ]


def _with_meta(resource: Any, resource_type: str, location: str) -> dict[str, Any]:
    body = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": resource_type, "location": location}
    return body


def _listed(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [str(ListResponse.__schema__)],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    await organization_of(request)
    location = f"{base_url(request)}/ServiceProviderConfig"
    return scim_response(_with_meta(SERVICE_PROVIDER_CONFIG, "ServiceProviderConfig", location))


def _resource_types(request: Request) -> dict[str, dict[str, Any]]:
    base = base_url(request)
    return {
        str(kind.id): _with_meta(kind, "ResourceType", f"{base}/ResourceTypes/{kind.id}")
        for kind in PROVIDER.resource_types
    }


@router.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    await organization_of(request)
    return scim_response(_listed(list(_resource_types(request).values())))


@router.get("/ResourceTypes/{type_id}")
async def resource_type(request: Request, type_id: str) -> Response:
    await organization_of(request)
    found = _resource_types(request).get(type_id)
    if found is None:
        raise ScimError(404, f"Resource type {type_id} not found.")
    return scim_response(found)


def _schemas(request: Request) -> dict[str, dict[str, Any]]:
    base = base_url(request)
    return {
        str(schema.id): _with_meta(schema, "Schema", f"{base}/Schemas/{schema.id}")
        for schema in schemas()
    }


@router.get("/Schemas")
async def schema_list(request: Request) -> Response:
    await organization_of(request)
    return scim_response(_listed(list(_schemas(request).values())))


@router.get("/Schemas/{schema_id}")
async def schema(request: Request, schema_id: str) -> Response:
    await organization_of(request)
    found = _schemas(request).get(schema_id)
    if found is None:
        raise ScimError(404, f"Schema {schema_id} not found.")
    return scim_response(found)
