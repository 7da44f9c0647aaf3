"""Analytics and conversions over REST (SPEC §14): the same figures as `/analytics`.

`GET /api/links/{id}/stats` and `GET /api/organizations/{id}/analytics` read the daily
rollups through `services/analytics.py`, exactly as the page does; `POST /api/conversions`
attributes a conversion to a click id (`op_click`) within the organization's attribution
window. The bodies and responses are described here (they belong to this feature only).
"""

import contextlib
from datetime import date
from typing import Annotated

from fastapi import Query, Response
from pydantic import BaseModel, Field, StrictFloat, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from orgportal.adapters import worker_cache
from orgportal.api.rest import cached_reads, direct
from orgportal.api.rest.deps import (
    API_KEY_SECURITY,
    MAX_ID,
    Caller,
    Id,
    LimitedCaller,
    check_workspace,
    client_of,
    limited_caller,
    rest_router,
    workspace_checked,
)
from orgportal.api.rest.direct import called_directly
from orgportal.api.rest.path_ids import OrganizationRef
from orgportal.api.rest.schemas import Body, one_line
from orgportal.db import unit_of_work
from orgportal.models import Link
from orgportal.services import analytics, api_callers, clicks, conversions, org_security
from orgportal.services.analytics import Figure, Report
from orgportal.services.api_keys import ApiCaller
from orgportal.services.errors import DomainError, ValidationFailed

router = rest_router("", "analytics")
hot = rest_router("", "analytics")  # the polled link stats, tried early (`rest.routers`)

# Dates exactly as YYYY-MM-DD (a bare number is not a date here, whatever pydantic allows).
DAY = {"pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "json_schema_extra": {"format": "date"}}
From = Annotated[
    str | None,
    Query(
        alias="from",
        description="First day (UTC, YYYY-MM-DD); default: 29 days before `to`. A range "
        f"longer than {analytics.MAX_DAYS} days is cut to the last {analytics.MAX_DAYS}; "
        "ends given the wrong way round are swapped. The answer says which days it covers.",
        **DAY,
    ),
]
To = Annotated[
    str | None, Query(description="Last day, inclusive (UTC, YYYY-MM-DD); default: today.", **DAY)
]
FilterId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class DayOut(BaseModel):
    date: date
    clicks: int = Field(description="Clicks by people (bots not counted).")
    bot_visits: int = Field(description="Visits recognized as bots, kept apart.")
    conversions: int
    conversion_value: float


class FigureOut(BaseModel):
    label: str
    clicks: int
    conversions: int = 0
    conversion_rate: float = Field(0.0, description="Conversions per click (0–1 and more).")
    conversion_value: float = 0.0
    id: int | None = Field(None, description="The link or project id (null: no project).")


class AnalyticsOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    clicks: int
    bot_visits: int
    conversions: int
    conversion_rate: float
    conversion_value: float
    days: list[DayOut] = Field(description="Every day of the range, oldest first.")
    top_links: list[FigureOut] = Field(description="At most 10, most clicked first.")
    top_projects: list[FigureOut]
    referrers: list[FigureOut] = Field(description="Referrer hosts (top 10).")
    browsers: list[FigureOut]
    operating_systems: list[FigureOut]
    devices: list[FigureOut] = Field(description="desktop, mobile, tablet.")
    countries: list[FigureOut] = Field(description="ISO 3166 codes (trusted header).")

    model_config = {"populate_by_name": True}


class ConversionIn(Body):
    click_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(
        description="The `op_click` value the link appended to its target."
    )
    name: one_line(1, 100) = Field(examples=["signup"])
    value: StrictFloat | None = Field(None, ge=-1e12, le=1e12, description="Optional amount.")


class ConversionOut(BaseModel):
    id: int
    click_id: str
    link_id: int
    name: str
    value: float | None
    created: bool = Field(description="False: this (click_id, name) was recorded before.")


def _figure(figure: Figure, with_id: bool = False) -> FigureOut:
    return FigureOut(
        label=figure.label,
        clicks=figure.clicks,
        conversions=figure.conversions,
        conversion_rate=round(figure.rate, 4),
        conversion_value=round(figure.value, 2),
        id=(figure.key or None) if with_id else None,
    )


def _out(report: Report) -> AnalyticsOut:
    dims = report.dimensions
    return AnalyticsOut(
        from_=report.start,
        to=report.end,
        clicks=report.clicks,
        bot_visits=report.bots,
        conversions=report.conversions,
        conversion_rate=round(report.rate, 4),
        conversion_value=round(report.value, 2),
        days=[
            DayOut(
                date=d.day,
                clicks=d.clicks,
                bot_visits=d.bots,
                conversions=d.conversions,
                conversion_value=round(d.value, 2),
            )
            for d in report.days
        ],
        top_links=[_figure(f, True) for f in report.links],
        top_projects=[_figure(f, True) for f in report.projects],
        referrers=[_figure(f) for f in dims.get("referrer", [])],
        browsers=[_figure(f) for f in dims.get("browser", [])],
        operating_systems=[_figure(f) for f in dims.get("os", [])],
        devices=[_figure(f) for f in dims.get("device", [])],
        countries=[_figure(f) for f in dims.get("country", [])],
    )


def _range(start: str | None, end: str | None) -> tuple[date, date]:
    days = {}
    for name, raw in (("from", start), ("to", end)):
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValidationFailed({name: "Use a real date: YYYY-MM-DD."}) from None
    return analytics.requested_range(days["from"], days["to"])


def _stats_params(request: Request) -> dict | None:
    """`link_stats`' path and query, read by hand (`direct.py`)."""
    link_id = direct.number_in_path(request, "link_id", 1, MAX_ID)
    days = direct.query(request, **{"from": direct.DAY, "to": direct.DAY})
    if link_id is None or days is None:
        return None
    return {"request": request, "link_id": link_id, "from_": days.get("from"), "to": days.get("to")}


@hot.get(
    "/links/{link_id}/stats",
    summary="One link's clicks and conversions per day (members of its workspace)",
    response_model=AnalyticsOut,
    response_model_by_alias=True,
    openapi_extra=API_KEY_SECURITY,  # LimitedCaller reads the key itself
)
@called_directly(_stats_params, caller=limited_caller)
async def link_stats(
    request: Request, link_id: Id, caller: LimitedCaller, from_: From = None, to: To = None
) -> Response:
    """Polled by dashboards, so its JSON is kept per caller, link and days in this worker
    (`cached_reads`), dropped by every click flush and conversion of the link's workspace.
    A kept answer is served only while this worker's caches know the caller's workspace
    checked and the caller still a member of the link's organization (its Security rule
    enforced here); else the whole database path runs, as before caching."""
    start, end = _range(from_, to)  # "today" is part of the key: a new day, a new read
    key = (caller.user.id, link_id, start, end)
    kept = cached_reads.link_stats.get(key)
    if kept is not None and workspace_checked(request, caller):
        organization_id, body = kept
        access = organization_id and api_callers.cached_access(caller, organization_id)
        if organization_id is None or access:
            if access and access.rule is not None:
                org_security.enforce(
                    access.rule, user=caller.user, address=client_of(request), api=True
                )
            return Response(body, media_type="application/json")
    body = await run_in_threadpool(_read_stats, request, caller, key)
    return Response(body, media_type="application/json")


def _read_stats(request: Request, caller: ApiCaller, key: tuple) -> bytes:
    """The route before caching (`current_caller`'s workspace check, then the report),
    kept; the caller's access to the link's organization is loaded too, for the next hit."""
    _, link_id, start, end = key
    token = worker_cache.token()
    with unit_of_work() as session:
        check_workspace(session, request, caller)
        report = analytics.link_report(
            session, user=caller.user, link_id=link_id, start=start, end=end
        )
        link = session.get(Link, link_id)
        organization_id = link.organization_id if link else None
    body = cached_reads.json_body(_out(report))
    user_id = caller.user.id
    tags = cached_reads.workspace_tags(organization_id, user_id)
    tags.append(
        (clicks.TOPIC, organization_id) if organization_id else (clicks.PERSONAL_TOPIC, user_id)
    )
    if caller.active_org_id is not None:
        tags += cached_reads.workspace_tags(caller.active_org_id, user_id)
    if link is not None:
        cached_reads.link_stats.put(key, (organization_id, body), tags=tags, token=token)
    if organization_id is not None:
        with contextlib.suppress(DomainError):  # the next request tells, on the database
            api_callers.load_access(caller, organization_id)
    return body


@router.get(
    "/organizations/{organization_id}/analytics",
    summary="An organization's analytics, as on its /analytics page (every member)",
    response_model_by_alias=True,
)
def organization_analytics(
    organization_id: OrganizationRef,
    caller: Caller,
    from_: From = None,
    to: To = None,
    project_id: FilterId = None,
    link_id: FilterId = None,
) -> AnalyticsOut:
    start, end = _range(from_, to)
    with unit_of_work() as session:
        report = analytics.workspace_report(
            session,
            user=caller.user,
            organization_id=organization_id,
            start=start,
            end=end,
            project_id=project_id,
            link_id=link_id,
        )
    return _out(report)


@router.post(
    "/conversions",
    status_code=201,
    summary="Attribute a conversion to a click (idempotent per click_id and name)",
    responses={200: {"model": ConversionOut, "description": "Already recorded (same result)"}},
)
def create_conversion(body: ConversionIn, caller: Caller, response: Response) -> ConversionOut:
    with unit_of_work() as session:
        done = conversions.record_conversion(
            session, user=caller.user, click_id=body.click_id, name=body.name, value=body.value
        )
        out = ConversionOut(
            id=done.conversion.id or 0,
            click_id=done.click.token,
            link_id=done.conversion.link_id,
            name=done.conversion.name,
            value=done.conversion.value,
            created=done.created,
        )
    if not done.created:
        response.status_code = 200
    return out
