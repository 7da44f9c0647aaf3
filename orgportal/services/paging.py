"""One page of a growing list, read on the server: the rows and how many there are in all.

Every list that grows (links, files, tickets, domains, keys, deliveries…) is paginated in
the database, so a page's state stays small whatever the organization's size.
"""

from typing import Any, TypeVar

from sqlmodel import Session, func, select

T = TypeVar("T")


def one_page(
    session: Session,
    model: type[T],
    *where: Any,
    order_by: tuple[Any, ...],
    limit: int,
    offset: int,
) -> tuple[list[T], int]:
    """The rows of `model` matching `where`, in `order_by`, from `offset` (at most `limit`),
    and the number of all matching rows."""
    total = session.exec(select(func.count()).select_from(model).where(*where)).one()
    rows = session.exec(
        select(model).where(*where).order_by(*order_by).offset(max(0, offset)).limit(max(1, limit))
    ).all()
    return list(rows), int(total)
