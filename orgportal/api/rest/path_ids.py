"""Public ids in REST paths (`org_…`, `user_…`, SPEC §8), resolved to the integer keys the
services take.

A route declares `organization_id: OrganizationRef` (or `WorkspaceRef`, `MemberRef`) and
receives the integer key; the OpenAPI document shows the public id's string form. The
caller is authenticated first (a shared dependency), so a stranger learns nothing from the
answer; an unknown id is a 404, exactly as another organization's.
"""

from typing import Annotated

from fastapi import Depends, Path

from orgportal.api.rest.deps import Caller
from orgportal.db import unit_of_work
from orgportal.services import public_ids

ORGANIZATION_EXAMPLE = "org_abc123def456"
# `org_personal` is well formed here too (answers name the Personal Workspace so): it is
# no organization, so a 404, like any id that is not one of yours.
OrganizationPath = Annotated[
    str,
    Path(
        pattern=public_ids.WORKSPACE_PATTERN,
        description="The organization's public id (`org_…`; `org_personal`, your Personal "
        "Workspace, has no organization details, members or usage here: 404).",
        examples=[ORGANIZATION_EXAMPLE],
    ),
]


def _organization(organization_id: OrganizationPath, caller: Caller) -> int:
    with unit_of_work() as session:
        return public_ids.organization_pk(session, organization_id)


def _workspace(
    organization_id: Annotated[
        str,
        Path(
            pattern=public_ids.WORKSPACE_PATTERN,
            description="An organization's public id (`org_…`), or `org_personal` for your "
            "Personal Workspace.",
            examples=[ORGANIZATION_EXAMPLE, public_ids.PERSONAL],
        ),
    ],
    caller: Caller,
) -> int | None:
    with unit_of_work() as session:
        return public_ids.workspace_pk(session, organization_id)


def _member(
    user_id: Annotated[
        str,
        Path(
            pattern=public_ids.USER_PATTERN,
            description="The member's public user id (`user_…`).",
            examples=["user_abc123def456"],
        ),
    ],
    caller: Caller,
) -> int:
    with unit_of_work() as session:
        return public_ids.user_pk(session, user_id, missing="Member not found.")


OrganizationRef = Annotated[int, Depends(_organization)]
WorkspaceRef = Annotated[int | None, Depends(_workspace)]
MemberRef = Annotated[int, Depends(_member)]
