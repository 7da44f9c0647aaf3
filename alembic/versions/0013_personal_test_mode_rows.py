"""test mode: a personal plan's checkout and subscription have no organization (NULL, not 0)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('test_mode_checkout', 'test_mode_subscription')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=True)
        op.execute(sa.text(f'UPDATE {table} SET organization_id = NULL WHERE organization_id = 0'))


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f'UPDATE {table} SET organization_id = 0 WHERE organization_id IS NULL'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=False)
