"""sqlite autoincrement: organization and user ids are never reused

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000

Some rows point at an organization or a user without a foreign key (audit_event,
test_mode_checkout, test_mode_subscription, user_token; Stripe metadata too). Plain SQLite
hands out max(id)+1, so deleting the newest organization let the next one inherit its audit
trail. AUTOINCREMENT never reuses an id; PostgreSQL sequences never did, so there this is a
no-op. SQLite cannot add AUTOINCREMENT in place: the tables are rebuilt with every row.

alembic/env.py runs SQLite migrations with foreign keys off: dropping the old `organization`
with them on would ON DELETE CASCADE every membership, link, file, ticket …
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table, and the columns elsewhere that hold its ids without a foreign key.
TABLES = {
    'organization': [
        ('audit_event', 'organization_id'),
        ('test_mode_checkout', 'organization_id'),
        ('test_mode_subscription', 'organization_id'),
        ('user_token', 'organization_id'),
    ],
    'user': [('audit_event', 'actor_id')],
}


def upgrade() -> None:
    _rebuild(autoincrement=True)
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, references in TABLES.items():
        # Ids already freed before this upgrade (still named by audit events) are skipped too.
        ids = ' UNION ALL '.join(
            [f'SELECT max(id) AS m FROM "{table}"']
            + [f'SELECT max("{column}") FROM "{other}"' for other, column in references]
        )
        bind.exec_driver_sql('DELETE FROM sqlite_sequence WHERE name = ?', (table,))
        bind.exec_driver_sql(
            f'INSERT INTO sqlite_sequence (name, seq) SELECT ?, coalesce(max(m), 0) FROM ({ids})',
            (table,),
        )


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError(
            'Refusing to rebuild tables with SQLite foreign keys on: ON DELETE CASCADE would '
            'empty their child tables. Run it through alembic/env.py, which turns them off.'
        )
    dangling = set(bind.exec_driver_sql('PRAGMA foreign_key_check').all())
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass
    new = set(bind.exec_driver_sql('PRAGMA foreign_key_check').all()) - dangling
    if new:
        raise RuntimeError(f'The rebuild left rows pointing nowhere: {sorted(new)[:5]}')
