"""account self-service: password reset, email change, session details

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:00:00.000000

Sessions remember when they were last used and the browser and address that opened them
(/account → Sessions); email-change links carry the new address. Password-reset links are
`user_token` rows of their own purpose, so they need no new column.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column(
            'user_agent', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False,
            server_default='',
        ))
        batch_op.add_column(sa.Column(
            'client_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
            server_default='',
        ))
    with op.batch_alter_table('user_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'new_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False,
            server_default='',
        ))
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.alter_column('user_agent', server_default=None)
        batch_op.alter_column('client_address', server_default=None)
    with op.batch_alter_table('user_token', schema=None) as batch_op:
        batch_op.alter_column('new_email', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('user_token', schema=None) as batch_op:
        batch_op.drop_column('new_email')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('client_address')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('last_seen_at')
