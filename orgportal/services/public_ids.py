"""Public string ids (`org_…`, `user_…`) ↔ the integer keys the services use (SPEC §8).

The REST API shows and takes only public ids; services keep working on integer keys. A
public id is random, stable and never reused, so a resolved pair never goes stale: it is
kept per worker (a deleted organization's key then simply finds nothing, as before).
`org_personal` names the caller's Personal Workspace, as seed 003 shows it.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from orgportal.db import unit_of_work
from orgportal.models import Organization, User
from orgportal.models.base import PUBLIC_ID_LENGTH
from orgportal.services.errors import NotFound

PERSONAL = "org_personal"
ORGANIZATION_PATTERN = rf"^org_[a-z0-9]{{{PUBLIC_ID_LENGTH}}}$"
WORKSPACE_PATTERN = rf"^org_(?:personal|[a-z0-9]{{{PUBLIC_ID_LENGTH}}})$"
USER_PATTERN = rf"^user_[a-z0-9]{{{PUBLIC_ID_LENGTH}}}$"
_MAX_CACHED = 50_000

_organizations: dict[str, int] = {}


def organization_pk(session: Session, public_id: str) -> int:
    """The organization's key, or NotFound (unknown ids answer as other organizations do)."""
    found = _organizations.get(public_id)
    if found is None:
        found = session.exec(
            select(Organization.id).where(Organization.public_id == public_id)
        ).first()
        if found is None:
            raise NotFound("Organization not found.")
        if len(_organizations) >= _MAX_CACHED:
            _organizations.clear()
        _organizations[public_id] = found
    return found


def cached_organization_pk(public_id: str) -> int | None:
    """This worker's answer, without a database (None: not resolved here yet)."""
    return _organizations.get(public_id)


def load_organization_pk(public_id: str) -> int | None:
    """`organization_pk` in its own unit of work (none on a cached id); None for an unknown
    id (`org_personal` included)."""
    found = _organizations.get(public_id)
    if found is not None:
        return found
    with unit_of_work() as session:
        try:
            return organization_pk(session, public_id)
        except NotFound:
            return None


def workspace_pk(session: Session, public_id: str) -> int | None:
    """Like `organization_pk`, with `org_personal` → None (the Personal Workspace)."""
    return None if public_id == PERSONAL else organization_pk(session, public_id)


def user_pk(session: Session, public_id: str, *, missing: str = "User not found.") -> int:
    found = session.exec(select(User.id).where(User.public_id == public_id)).first()
    if found is None:
        raise NotFound(missing)
    return found


def organization_ids(session: Session, pks: Iterable[int | None]) -> dict[int | None, str]:
    """Public id of each organization key (None → `org_personal`), in one query."""
    wanted = {pk for pk in pks if pk is not None}
    found: dict[int | None, str] = {None: PERSONAL}
    if wanted:
        rows = session.exec(
            select(Organization.id, Organization.public_id).where(col(Organization.id).in_(wanted))
        )
        found.update({pk: public_id for pk, public_id in rows if public_id})
    return found


def user_ids(session: Session, pks: Iterable[int]) -> dict[int, str]:
    """Public id of each user key, in one query."""
    wanted = set(pks)
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.public_id).where(col(User.id).in_(wanted)))
    return {pk: public_id for pk, public_id in rows if public_id}


def of_user(session: Session, pk: int) -> str:
    return user_ids(session, [pk])[pk]


def of_organization(session: Session, pk: int | None) -> str:
    return organization_ids(session, [pk])[pk]
