"""`/api/links`: create, list, delete short links in the key's active workspace (SPEC §7, §8).

The link service reserves room in the pool under a lock and marks the organization's usage
as changed; the unit of work announces that after commit, so open organization pages move
their bars for API-created links exactly as for links made on the Links page.
"""

import contextlib
from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from orgportal.adapters import worker_cache
from orgportal.api.rest import cached_reads, direct
from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import (
    API_KEY_SECURITY,
    MAX_ID,
    Caller,
    Id,
    Limit,
    LimitedCaller,
    Offset,
    check_workspace,
    limited_caller,
    rest_router,
    workspace_checked,
)
from orgportal.api.rest.direct import called_directly
from orgportal.db import unit_of_work
from orgportal.models import Link
from orgportal.services import (
    api_callers,
    api_keys,
    custom_domains,
    link_approval,
    links,
    public_ids,
)
from orgportal.services.api_keys import ApiCaller
from orgportal.services.errors import DomainError

router = rest_router("/links", "links")
hot = rest_router("/links", "links")  # the polled list, tried early (`rest.routers`)
NO_REASON = s.LinkReject()  # the reject body is optional


class _PublicIds:
    """The public ids of the workspaces and owners of `found` links, read in two queries."""

    def __init__(self, session: Session, found: list[Link]) -> None:
        self.organizations = public_ids.organization_ids(
            session, (link.organization_id for link in found)
        )
        self.users = public_ids.user_ids(session, (link.owner_id for link in found))


def _out(
    link: Link, out: type[s.LinkOut] = s.LinkOut, ids: _PublicIds | None = None, **extra
) -> s.LinkOut:
    domain = _domain(link)
    ids = ids or _PublicIds(Session.object_session(link), [link])
    return out(
        **extra,
        id=link.id,
        slug=link.slug,
        short_url=custom_domains.short_url(link.slug, domain),
        domain=domain,
        target_url=link.target_url,
        organization_id=ids.organizations[link.organization_id],
        owner_id=ids.users[link.owner_id],
        created_at=link.created_at,
        project_id=link.project_id,
        pending_approval=link.pending_approval,
        append_click_id=link.append_click_id,
    )


def _domain(link: Link) -> str | None:
    """The link's verified custom domain (SPEC §15), read in the link's own session."""
    session = Session.object_session(link)
    if link.custom_domain_id is None or session is None:
        return None
    return custom_domains.domain_names(session, {link.custom_domain_id}).get(link.custom_domain_id)


@router.post("", status_code=201, summary="Create a short link in the key's active workspace")
def create_link(body: s.LinkCreate, caller: Caller) -> s.LinkOut:
    with unit_of_work() as session:
        workspace = api_keys.active_workspace(session, caller)
        domain = custom_domains.link_domain_by_name(
            session, organization_id=workspace, domain=body.domain
        )
        link = links.create_link(
            session,
            user=caller.user,
            organization_id=workspace,
            target_url=body.target_url,
            slug=body.slug,
            project_id=body.project_id,
            custom_domain_id=domain.id if domain else None,
            append_click_id=body.append_click_id,  # SPEC §14: conversion attribution
        )
        return _out(link)


def _list_params(request: Request) -> dict | None:
    """`list_links`' query, read by hand (`direct.py`)."""
    params = direct.query(
        request,
        limit=(direct.NUMBER, 1, 100),
        offset=(direct.NUMBER, 0, MAX_ID),
        project_id=(direct.NUMBER, 0, MAX_ID),
    )
    return None if params is None else {**params, "request": request}


@hot.get(
    "",
    summary="Links of the key's active workspace, newest first",
    response_model=s.LinkPage,
    openapi_extra=API_KEY_SECURITY,  # LimitedCaller reads the key itself
)
@called_directly(_list_params, caller=limited_caller)
async def list_links(
    request: Request,
    caller: LimitedCaller,
    limit: Limit = 50,
    offset: Offset = 0,
    project_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_ID, description="Only this project's links; 0: links in no project."),
    ] = None,
) -> Response:
    """Polled by scripts, so its JSON is kept per caller and page in this worker
    (`cached_reads`). A kept page is served only while this worker's caches still know the
    caller a member of the workspace it lists (its Security rule enforced here); else the
    whole database path runs, as before caching."""
    key = (caller.user.id, caller.active_org_id, caller.token_id, limit, offset, project_id)
    kept = cached_reads.links.get(key)
    if kept is not None and workspace_checked(request, caller):
        workspace, body = kept
        if workspace == caller.active_org_id:
            return Response(body, media_type="application/json")
    body = await run_in_threadpool(_read_links, request, caller, key)
    return Response(body, media_type="application/json")


def _read_links(request: Request, caller: ApiCaller, key: tuple) -> bytes:
    """The route before caching (`current_caller`'s workspace check, then the listing),
    kept; the caller's access to the workspace is loaded too, for the next hit."""
    _, _, _, limit, offset, project_id = key
    token = worker_cache.token()
    with unit_of_work() as session:
        check_workspace(session, request, caller)
        workspace = api_keys.active_workspace(session, caller)
        found, total = links.list_links(
            session,
            user=caller.user,
            organization_id=workspace,
            limit=limit,
            offset=offset,
            project_id=project_id,
        )
        ids = _PublicIds(session, found)
        items = [_out(link, ids=ids) for link in found]
        page = s.LinkPage(items=items, total=total, limit=limit, offset=offset)
    body = cached_reads.json_body(page)
    tags = cached_reads.workspace_tags(workspace, caller.user.id)
    if caller.active_org_id is not None:
        tags += cached_reads.workspace_tags(caller.active_org_id, caller.user.id)
    cached_reads.links.put(key, (workspace, body), tags=tags, token=token)
    if workspace is not None:
        with contextlib.suppress(DomainError):  # the next request tells, on the database
            api_callers.load_access(caller, workspace)
    return body


@router.delete("/{link_id:int}", summary="Delete a link (its creator, or an Owner/Admin)")
def delete_link(link_id: Id, caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        links.delete_link(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            link_id=link_id,
        )
    return s.MessageOut(message="Link deleted")


@router.patch("/{link_id:int}", summary="Move a link to a project (its creator, or an Owner/Admin)")
def update_link(link_id: Id, body: s.LinkUpdate, caller: Caller) -> s.LinkOut:
    with unit_of_work() as session:
        link = links.set_link_project(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            link_id=link_id,
            project_id=body.project_id,
        )
        return _out(link)


@router.get("/pending", summary="The approval queue, oldest first (Owner/Admin)")
def list_pending_links(caller: Caller, limit: Limit = 50, offset: Offset = 0) -> s.PendingLinkPage:
    with unit_of_work() as session:
        found, total = link_approval.list_pending(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            limit=limit,
            offset=offset,
        )
        ids = _PublicIds(session, [link for link, _ in found])
        items = [_out(link, s.PendingLinkOut, ids, owner_email=email) for link, email in found]
    return s.PendingLinkPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/{link_id:int}/approve", summary="Approve a pending link: it redirects at once")
def approve_link(link_id: Id, caller: Caller) -> s.LinkOut:
    with unit_of_work() as session:
        link = link_approval.approve_link(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            link_id=link_id,
        )
        return _out(link)


@router.post("/{link_id:int}/reject", summary="Reject a pending link: deleted, its creator is told")
def reject_link(link_id: Id, caller: Caller, body: s.LinkReject = NO_REASON) -> s.MessageOut:
    with unit_of_work() as session:
        link_approval.reject_link(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            link_id=link_id,
            reason=body.reason,
        )
    return s.MessageOut(message="Link rejected")
