"""public string ids for organizations and users, and workspace tokens (REST API, SPEC §8)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 18:30:00.000000

`organization.purpose` and `contact_email`: seed 003's "Document Organization Purpose"
settings (`purpose`, `owner`).

The REST API names organizations `org_…` and users `user_…` (seed 003): random, stable,
never reused; integer ids stay internal. Existing rows get one here, new rows on insert.
The columns stay nullable in the schema: NOT NULL on SQLite needs a table rebuild, which
would lose AUTOINCREMENT (see 0007); the unique index refuses any clash.

`workspace_token` holds the short-lived bearer tokens `POST /api/organizations/{id}/switch`
answers (hashed), so switching no longer moves the API key's own workspace.
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"  # as models/base.py new_public_id


def _backfill(table: str, prefix: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f'SELECT id FROM "{table}" WHERE public_id IS NULL')).all()
    for (row_id,) in rows:
        public_id = prefix + "".join(secrets.choice(ALPHABET) for _ in range(12))
        conn.execute(
            sa.text(f'UPDATE "{table}" SET public_id = :p WHERE id = :i'),
            {"p": public_id, "i": row_id},
        )


def upgrade() -> None:
    for table, prefix in (('organization', 'org_'), ('user', 'user_')):
        op.add_column(
            table,
            sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        )
        _backfill(table, prefix)
        op.create_index(f'ix_{table}_public_id', table, ['public_id'], unique=True)
    op.add_column('organization', sa.Column(
        'purpose', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default=''
    ))
    op.add_column('organization', sa.Column(
        'contact_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False,
        server_default='',
    ))

    op.create_table('workspace_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['key_id'], ['api_key.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workspace_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_token_key_id'), ['key_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_workspace_token_organization_id'), ['organization_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_workspace_token_token_hash'), ['token_hash'], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table('workspace_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_token_token_hash'))
        batch_op.drop_index(batch_op.f('ix_workspace_token_organization_id'))
        batch_op.drop_index(batch_op.f('ix_workspace_token_key_id'))
    op.drop_table('workspace_token')
    op.drop_column('organization', 'contact_email')
    op.drop_column('organization', 'purpose')
    for table in ('user', 'organization'):
        op.drop_index(f'ix_{table}_public_id', table_name=table)
        op.drop_column(table, 'public_id')
