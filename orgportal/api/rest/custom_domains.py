"""`/api/organizations/{id}/domains`: branded short-link domains (SPEC §15).

Owners/Admins list, add, verify and remove an organization's custom domains. Adding one
returns the DNS TXT record to create; `POST …/verify` looks it up now (through the
configured resolver) and answers with the domain's new status and, on failure, the reason.
"""

from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, Id, Limit, Offset, rest_router
from orgportal.api.rest.path_ids import OrganizationRef
from orgportal.db import unit_of_work
from orgportal.models import CustomDomain
from orgportal.services import custom_domains

router = rest_router("/organizations/{organization_id}/domains", "custom domains")


def _out(row: CustomDomain) -> s.CustomDomainOut:
    return s.CustomDomainOut(
        id=row.id,
        domain=row.domain,
        status=row.status,
        failure_reason=row.failure_reason,
        record_name=custom_domains.record_name(row.domain),
        record_value=custom_domains.record_value(row.token),
        created_at=row.created_at,
        verified_at=row.verified_at,
        checked_at=row.checked_at,
    )


@router.get("", summary="The organization's custom domains, by name (Owner/Admin)")
def list_domains(
    organization_id: OrganizationRef, caller: Caller, limit: Limit = 50, offset: Offset = 0
) -> s.CustomDomainPage:
    with unit_of_work() as session:
        rows, total = custom_domains.list_domains(
            session, user=caller.user, organization_id=organization_id, limit=limit, offset=offset
        )
        items = [_out(row) for row in rows]
    return s.CustomDomainPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "", status_code=201, summary="Add a custom domain within the plan's limit (Owner/Admin)"
)
def add_domain(
    organization_id: OrganizationRef, body: s.CustomDomainCreate, caller: Caller
) -> s.CustomDomainOut:
    with unit_of_work() as session:
        row = custom_domains.add_domain(
            session, user=caller.user, organization_id=organization_id, domain=body.domain
        )
        return _out(row)


@router.post("/{domain_id}/verify", summary="Look the domain's TXT record up now (Owner/Admin)")
def verify_domain(
    organization_id: OrganizationRef, domain_id: Id, caller: Caller
) -> s.CustomDomainOut:
    with unit_of_work() as session:
        row = custom_domains.verify_domain(
            session, user=caller.user, organization_id=organization_id, domain_id=domain_id
        )
        return _out(row)


@router.delete("/{domain_id}", summary="Remove a custom domain; its links move to the app's host")
def remove_domain(organization_id: OrganizationRef, domain_id: Id, caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        custom_domains.remove_domain(
            session, user=caller.user, organization_id=organization_id, domain_id=domain_id
        )
    return s.MessageOut(message="Domain removed")
