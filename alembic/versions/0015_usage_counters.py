"""usage counters: one row per pool, so a usage read is a primary-key lookup

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 20:00:00.000000

`organization_counter` holds an organization's pool (its items plus the personal items of
the members who draw on its plan); `personal_counter` a user's personal items and the
organization whose pool counts them. Both are filled from the existing rows here.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organization_counter',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('links', sa.Integer(), nullable=False),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('personal_counter',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('links', sa.Integer(), nullable=False),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['organization.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_index(
        op.f('ix_personal_counter_drawn_by_id'), 'personal_counter', ['drawn_by_id'], unique=False
    )
    from orgportal.services import usage_counters  # the same recount the check uses

    session = Session(bind=op.get_bind())
    usage_counters.repair(session)
    session.flush()


def downgrade() -> None:
    op.drop_index(op.f('ix_personal_counter_drawn_by_id'), table_name='personal_counter')
    op.drop_table('personal_counter')
    op.drop_table('organization_counter')
