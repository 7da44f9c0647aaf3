"""Rows one unit of work reads again and again, read once while nothing is written.

A page load checks the viewer's standing in the active organization once per state it
fills: `permissions.require` asks for the membership, the organization and its Security
settings each time, and the plan's subscription is asked by every usage figure. The
session's identity map does not spare these reads: it holds rows weakly (a row nobody
keeps is read again), it cannot remember a row that does not exist (no Security settings
yet), and a query that is not by primary key always goes to the database. /organization/
settings issued 55 statements, 31 of them the same three reads.

`remembered(session, key, read)` keeps `read()`'s answer in the session until the session
writes anything: any flush, any INSERT/UPDATE/DELETE or locking read it executes, and the
end of its transaction (a commit, a rollback, a close) forget everything remembered, and a
session with unflushed changes reads afresh. So a use case that locks a row and reads again
after the lock still sees what the lock protects, and a change it made is never hidden
from it.
"""

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

T = TypeVar("T")
_MEMO = "remembered_reads"


def remembered(session: OrmSession, key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, or what it answered earlier in this session since the last write."""
    if session.new or session.deleted or session.dirty:
        return read()  # (its query flushes them first)
    memo: dict[Hashable, Any] = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = read()
    return memo[key]


def forget(session: OrmSession, *_: object) -> None:
    """Everything remembered in `session` is read afresh from now on (also the listener of
    the session events after which the database may answer differently)."""
    session.info.pop(_MEMO, None)


@event.listens_for(OrmSession, "do_orm_execute")
def _forget_on_write(state: ORMExecuteState) -> None:
    statement = state.statement
    if not state.is_select or getattr(statement, "_for_update_arg", None) is not None:
        forget(state.session)


event.listen(OrmSession, "after_flush", forget)
# a commit, a rollback (of a savepoint too), a session closed or reset mid-transaction
event.listen(OrmSession, "after_transaction_end", forget)
