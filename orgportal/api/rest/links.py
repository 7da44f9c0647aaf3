"""`/api/links`: create, list, delete short links in the key's active workspace (SPEC §7, §8).

The link service reserves room in the pool under a lock and marks the organization's usage
as changed; the unit of work announces that after commit, so open organization pages move
their bars for API-created links exactly as for links made on the Links page.
"""

from orgportal import routes
from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, Id, Limit, Offset, rest_router
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.models import Link
from orgportal.services import api_keys, links

router = rest_router("/links", "links")


def _out(link: Link) -> s.LinkOut:
    return s.LinkOut(
        id=link.id,
        slug=link.slug,
        short_url=f"{settings.public_url}{routes.short_link(link.slug)}",
        target_url=link.target_url,
        organization_id=link.organization_id,
        owner_id=link.owner_id,
        created_at=link.created_at,
    )


@router.post("", status_code=201, summary="Create a short link in the key's active workspace")
def create_link(body: s.LinkCreate, caller: Caller) -> s.LinkOut:
    with unit_of_work() as session:
        link = links.create_link(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            target_url=body.target_url,
            slug=body.slug,
        )
        return _out(link)


@router.get("", summary="Links of the key's active workspace, newest first")
def list_links(caller: Caller, limit: Limit = 50, offset: Offset = 0) -> s.LinkPage:
    with unit_of_work() as session:
        found, total = links.list_links(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            limit=limit,
            offset=offset,
        )
        items = [_out(link) for link in found]
    return s.LinkPage(items=items, total=total, limit=limit, offset=offset)


@router.delete("/{link_id}", summary="Delete a link (its creator, or an Owner/Admin)")
def delete_link(link_id: Id, caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        links.delete_link(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            link_id=link_id,
        )
    return s.MessageOut(message="Link deleted")
