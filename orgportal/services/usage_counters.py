"""Usage counters: reading a pool's usage is one primary-key lookup.

Every pool has a counter row: an organization's (`OrganizationCounter`: its own items plus
the personal items of the members who draw on its plan) and a user's own pool
(`PersonalCounter`: their Personal Workspace items, with `drawn_by_id` naming the
organization whose pool counts them too, or NULL).

They change in the transaction that changes the rows:
- `count_item` when a link or file is created or deleted: SQL `x = x + delta`, so
  concurrent writers never lose an update; `usage.reserve` holds the pool's lock around
  its read, so the limit check stays exact;
- `resync` when a user's effective plan may have moved (they joined or left an
  organization, a subscription changed, an organization was deleted): their personal
  totals move from the pool that counted them to the one that should;
- `forget_user` before an account's items are deleted in bulk.

`check` recomputes every counter from the rows and lists the drift; `repair` rewrites the
counters from the rows (the migration that introduced them, and bulk imports).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select, update

from orgportal.db import mark_usage_changed
from orgportal.models import Link, Membership, OrganizationCounter, PersonalCounter, StoredFile
from orgportal.services.effective_plans import effective_plans

CHUNK = 500  # ids per IN (...) list when recounting


@dataclass(frozen=True)
class Totals:
    links: int = 0
    storage_bytes: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.links + other.links, self.storage_bytes + other.storage_bytes)

    def __neg__(self) -> "Totals":
        return Totals(-self.links, -self.storage_bytes)

    def __bool__(self) -> bool:
        return bool(self.links or self.storage_bytes)


ZERO = Totals()


@dataclass(frozen=True)
class Drift:
    """One counter that disagrees with the rows it counts."""

    counter: str  # "organization 3" or "user 7"
    field: str  # links, storage_bytes or drawn_by_id
    stored: int | None
    expected: int | None


# --- reads ---------------------------------------------------------------------------------


def organization_totals(session: Session, organization_id: int) -> Totals:
    return _totals(
        session, OrganizationCounter, OrganizationCounter.organization_id, organization_id
    )


def personal_totals(session: Session, user_id: int) -> Totals:
    return _totals(session, PersonalCounter, PersonalCounter.user_id, user_id)


def _totals(session: Session, model, key_column, key: int) -> Totals:
    """Columns, not the ORM object: the counters change by SQL, never through the identity
    map, so a loaded object could be stale."""
    row = session.exec(select(model.links, model.storage_bytes).where(key_column == key)).first()
    return Totals(*row) if row else ZERO


# --- changes -------------------------------------------------------------------------------


def count_item(
    session: Session,
    *,
    organization_id: int | None,
    owner_id: int,
    links: int = 0,
    storage_bytes: int = 0,
) -> None:
    """Add an item's weight (negative: take it away) to every pool that counts it. Call in
    the transaction that inserts or deletes the item."""
    delta = Totals(links, storage_bytes)
    if organization_id is not None:
        _add_to_organization(session, organization_id, delta)
        return
    drawn_by = _drawn_by(session, owner_id)
    _add_to_personal(session, owner_id, delta)
    if drawn_by is not None:
        _add_to_organization(session, drawn_by, delta)


def resync(session: Session, user_ids: Iterable[int]) -> None:
    """Move each user's personal totals to the pool of their current effective plan, if it
    changed. Users without a counter row have no personal items yet: nothing to move (the
    row is created with the right source when their first item is counted)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    sources = effective_plans(session, ids)
    rows = session.exec(
        select(
            PersonalCounter.user_id,
            PersonalCounter.links,
            PersonalCounter.storage_bytes,
            PersonalCounter.drawn_by_id,
        )
        .where(col(PersonalCounter.user_id).in_(ids))
        .with_for_update()
    ).all()
    for user_id, links, storage_bytes, drawn_by in rows:
        target = sources[user_id].organization_id
        if drawn_by == target:
            continue
        totals = Totals(links, storage_bytes)
        if drawn_by is not None:
            _add_to_organization(session, drawn_by, -totals)
        if target is not None:
            _add_to_organization(session, target, totals)
        session.exec(
            update(PersonalCounter)
            .where(col(PersonalCounter.user_id) == user_id)
            .values(drawn_by_id=target)
        )


def resync_organization(session: Session, organization_id: int) -> None:
    """After the organization's plan changed: its members may start or stop drawing on it."""
    members = session.exec(
        select(Membership.user_id).where(Membership.organization_id == organization_id)
    ).all()
    resync(session, members)


def forget_user(session: Session, user_id: int) -> None:
    """Before an account's personal items are deleted in bulk: the pool that counted them
    gives them back (the user's own counter row goes with the user)."""
    row = session.exec(
        select(PersonalCounter.links, PersonalCounter.storage_bytes, PersonalCounter.drawn_by_id)
        .where(PersonalCounter.user_id == user_id)
        .with_for_update()
    ).first()
    if row is None:
        return
    links, storage_bytes, drawn_by = row
    if drawn_by is not None:
        _add_to_organization(session, drawn_by, -Totals(links, storage_bytes))
    session.exec(
        update(PersonalCounter)
        .where(col(PersonalCounter.user_id) == user_id)
        .values(links=0, storage_bytes=0)
    )


# --- consistency -----------------------------------------------------------------------------


def check(session: Session) -> list[Drift]:
    """Every counter recomputed from the rows; what disagrees (empty when all is well)."""
    organizations, personal = _recount(session)
    stored_orgs = {
        org_id: Totals(links, size)
        for org_id, links, size in session.exec(
            select(
                OrganizationCounter.organization_id,
                OrganizationCounter.links,
                OrganizationCounter.storage_bytes,
            )
        )
    }
    stored_personal = {
        user_id: (Totals(links, size), drawn_by)
        for user_id, links, size, drawn_by in session.exec(
            select(
                PersonalCounter.user_id,
                PersonalCounter.links,
                PersonalCounter.storage_bytes,
                PersonalCounter.drawn_by_id,
            )
        )
    }
    drifts: list[Drift] = []
    for org_id in sorted(organizations.keys() | stored_orgs.keys()):
        drifts += _compare(
            f"organization {org_id}", stored_orgs.get(org_id, ZERO), organizations.get(org_id)
        )
    for user_id in sorted(personal.keys() | stored_personal.keys()):
        expected, expected_source = personal.get(user_id, (ZERO, None))
        stored, drawn_by = stored_personal.get(user_id, (ZERO, expected_source))
        drifts += _compare(f"user {user_id}", stored, expected)
        if drawn_by != expected_source:
            drifts.append(Drift(f"user {user_id}", "drawn_by_id", drawn_by, expected_source))
    return drifts


def repair(session: Session) -> list[Drift]:
    """Rewrite every counter from the rows; returns the drift that was found."""
    drifts = check(session)
    organizations, personal = _recount(session)
    session.exec(update(OrganizationCounter).values(links=0, storage_bytes=0))
    for org_id, totals in organizations.items():
        _set_organization(session, org_id, totals)
    session.exec(update(PersonalCounter).values(links=0, storage_bytes=0))
    for user_id, (totals, source) in personal.items():
        _set_personal(session, user_id, totals, source)
    return drifts


def _recount(
    session: Session,
) -> tuple[dict[int, Totals], dict[int, tuple[Totals, int | None]]]:
    """What the counters should hold: per organization, and per user (with the source)."""
    own: dict[int, Totals] = defaultdict(Totals)
    personal_items: dict[int, Totals] = defaultdict(Totals)
    for model, weight in ((Link, func.count()), (StoredFile, func.sum(StoredFile.size_bytes))):
        for org_id, owner_id, amount in session.exec(
            select(model.organization_id, model.owner_id, weight).group_by(
                model.organization_id, model.owner_id
            )
        ):
            item = Totals(int(amount), 0) if model is Link else Totals(0, int(amount or 0))
            if org_id is None:
                personal_items[owner_id] += item
            else:
                own[org_id] += item
    users = set(personal_items) | set(session.exec(select(PersonalCounter.user_id)))
    sources: dict[int, int | None] = {}
    ordered = sorted(users)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for user_id, source in effective_plans(session, chunk).items():
            sources[user_id] = source.organization_id
    organizations = dict(own)
    for user_id, totals in personal_items.items():
        if sources[user_id] is not None:
            org_id = sources[user_id]
            organizations[org_id] = organizations.get(org_id, ZERO) + totals
    personal = {uid: (personal_items.get(uid, ZERO), sources[uid]) for uid in users}
    return organizations, personal


def _compare(counter: str, stored: Totals, expected: Totals | None) -> list[Drift]:
    expected = expected or ZERO
    return [
        Drift(counter, field, getattr(stored, field), getattr(expected, field))
        for field in ("links", "storage_bytes")
        if getattr(stored, field) != getattr(expected, field)
    ]


# --- rows --------------------------------------------------------------------------------------


def _drawn_by(session: Session, user_id: int) -> int | None:
    """The organization whose pool counts this user's personal items; creates the user's
    counter row (with their current source) on their first item. Locks the row, so a
    concurrent `resync` cannot move the totals between this read and the update."""
    query = (
        select(PersonalCounter.user_id, PersonalCounter.drawn_by_id)
        .where(PersonalCounter.user_id == user_id)
        .with_for_update()
    )
    row = session.exec(query).first()
    if row is None:
        source = effective_plans(session, [user_id])[user_id].organization_id
        session.execute(
            _insert(session, PersonalCounter)
            .values(user_id=user_id, links=0, storage_bytes=0, drawn_by_id=source)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        row = session.exec(query).one()
    return row[1]


def _add_to_organization(session: Session, organization_id: int, delta: Totals) -> None:
    if not delta:
        return
    mark_usage_changed(session, [organization_id])  # every pool that moves is announced
    table = OrganizationCounter.__table__
    statement = _insert(session, OrganizationCounter).values(
        organization_id=organization_id, links=delta.links, storage_bytes=delta.storage_bytes
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["organization_id"],
            set_={
                "links": table.c.links + statement.excluded.links,
                "storage_bytes": table.c.storage_bytes + statement.excluded.storage_bytes,
            },
        )
    )


def _add_to_personal(session: Session, user_id: int, delta: Totals) -> None:
    if delta:
        session.exec(
            update(PersonalCounter)
            .where(col(PersonalCounter.user_id) == user_id)
            .values(
                links=PersonalCounter.links + delta.links,
                storage_bytes=PersonalCounter.storage_bytes + delta.storage_bytes,
            )
        )


def _set_organization(session: Session, organization_id: int, totals: Totals) -> None:
    statement = _insert(session, OrganizationCounter).values(
        organization_id=organization_id, links=totals.links, storage_bytes=totals.storage_bytes
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["organization_id"],
            set_={"links": totals.links, "storage_bytes": totals.storage_bytes},
        )
    )


def _set_personal(session: Session, user_id: int, totals: Totals, source: int | None) -> None:
    values = {"links": totals.links, "storage_bytes": totals.storage_bytes, "drawn_by_id": source}
    statement = _insert(session, PersonalCounter).values(user_id=user_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))


def _insert(session: Session, model):
    """INSERT … ON CONFLICT for the database in use (both dialects spell it the same)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
