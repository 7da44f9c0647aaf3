"""`/api/organizations/{id}/tickets`: the support tickets of an organization (SPEC §7, §17).

For members who handle tickets (Owner, Admin, Agent) and organization API keys with the
Tickets scope: both pass the same `tickets` service check. Tickets are named by their
number (`TKT-001`), as on their pages.
"""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel

from orgportal.api.rest.deps import Caller, Limit, Offset, rest_router
from orgportal.api.rest.path_ids import OrganizationRef
from orgportal.db import unit_of_work
from orgportal.models import Ticket
from orgportal.services import tickets

router = rest_router("/organizations/{organization_id}/tickets", "tickets")


class TicketOut(BaseModel):
    number: str
    subject: str
    status: str
    requester_name: str
    requester_email: str
    department: str | None
    created_at: datetime
    updated_at: datetime


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


def _out(ticket: Ticket, departments: dict[int, str]) -> TicketOut:
    return TicketOut(
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        requester_name=ticket.requester_name,
        requester_email=ticket.requester_email,
        department=departments.get(ticket.department_id or 0),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


@router.get("", summary="Tickets, newest first (ticket handlers; keys with the Tickets scope)")
def list_tickets(
    organization_id: OrganizationRef,
    caller: Caller,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> TicketPage:
    with unit_of_work() as session:
        page = tickets.list_tickets(
            session,
            user=caller.user,
            organization_id=organization_id,
            status=status or "",
            limit=limit,
            offset=offset,
        )
    return TicketPage(
        items=[_out(t, page.department_names) for t in page.tickets],
        total=page.total,
        limit=limit,
        offset=offset,
    )
