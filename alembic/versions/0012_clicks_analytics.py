"""clicks, daily rollups and conversions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'append_click_id', sa.Boolean(), nullable=False, server_default=sa.false()
        ))
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.alter_column('append_click_id', server_default=None)

    op.create_table('click',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('clicked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('referrer_host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('browser', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('os', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('visitor_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('click', schema=None) as batch_op:
        batch_op.create_index('ix_click_link_time', ['link_id', 'clicked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_click_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_click_owner_id'), ['owner_id'], unique=False)

    op.create_table('click_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.Column('bots', sa.Integer(), nullable=False),
    sa.Column('conversions', sa.Integer(), nullable=False),
    sa.Column('conversion_value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_id', 'dimension', 'day', 'value', name='uq_click_rollup_key')
    )
    with op.batch_alter_table('click_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_click_rollup_org', ['organization_id', 'dimension', 'day'], unique=False)
        batch_op.create_index('ix_click_rollup_owner', ['owner_id', 'dimension', 'day'], unique=False)

    op.create_table('conversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('click_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['click_id'], ['click.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('click_id', 'name', name='uq_conversion_click_name')
    )
    with op.batch_alter_table('conversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversion_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversion_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversion_organization_id'))
        batch_op.drop_index(batch_op.f('ix_conversion_link_id'))
    op.drop_table('conversion')

    with op.batch_alter_table('click_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_click_rollup_owner')
        batch_op.drop_index('ix_click_rollup_org')
    op.drop_table('click_rollup')

    with op.batch_alter_table('click', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_click_owner_id'))
        batch_op.drop_index(batch_op.f('ix_click_organization_id'))
        batch_op.drop_index('ix_click_link_time')
    op.drop_table('click')

    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_column('append_click_id')
