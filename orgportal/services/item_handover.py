"""What a person made inside organizations outlives their account or membership there.

Links, files and what hangs on them (click analytics) belong to the organization: when the
account goes (deleted, or an unconfirmed account cleared), they pass to each organization's
Owner instead of vanishing with it (`owner_id` is ON DELETE CASCADE).
"""

from sqlalchemy import Table, union
from sqlmodel import Session, SQLModel, col, select, update

from orgportal.models import Membership, Role, User


def _workspace_tables() -> list[Table]:
    """Every table whose rows belong to a workspace through `organization_id` + `owner_id`
    (links, files, and what hangs on links such as click analytics)."""
    return [
        table
        for table in SQLModel.metadata.sorted_tables
        if {"owner_id", "organization_id"} <= set(table.c.keys())
    ]


def hand_over_organization_items(session: Session, user: User) -> None:
    """What the user made inside organizations (links, files, their analytics) belongs to
    those organizations: it passes to each organization's owner instead of vanishing with
    the account (`owner_id` is ON DELETE CASCADE)."""
    tables = _workspace_tables()
    in_use = union(
        *[
            select(table.c.organization_id).where(
                table.c.owner_id == user.id, table.c.organization_id.is_not(None)
            )
            for table in tables
        ]
    )
    owners = session.exec(
        select(Membership.organization_id, Membership.user_id).where(
            Membership.role == Role.OWNER, col(Membership.organization_id).in_(in_use)
        )
    ).all()
    for organization_id, owner_id in owners:
        for table in tables:
            session.exec(
                update(table)
                .where(table.c.owner_id == user.id, table.c.organization_id == organization_id)
                .values(owner_id=owner_id)
            )
