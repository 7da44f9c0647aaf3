"""custom domains: branded short-link domains and link.custom_domain_id

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 18:00:00.000000

`custom_domain.domain` is unique across all organizations; `link.custom_domain_id` is SET
NULL when the domain is removed (the link falls back to the app's own host).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('custom_domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('failure_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('custom_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_domain_domain'), ['domain'], unique=True)
        batch_op.create_index(batch_op.f('ix_custom_domain_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custom_domain_status'), ['status'], unique=False)

    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom_domain_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_link_custom_domain_id_custom_domain', 'custom_domain', ['custom_domain_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_index(batch_op.f('ix_link_custom_domain_id'), ['custom_domain_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_custom_domain_id'))
        batch_op.drop_constraint('fk_link_custom_domain_id_custom_domain', type_='foreignkey')
        batch_op.drop_column('custom_domain_id')

    with op.batch_alter_table('custom_domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_domain_status'))
        batch_op.drop_index(batch_op.f('ix_custom_domain_organization_id'))
        batch_op.drop_index(batch_op.f('ix_custom_domain_domain'))

    op.drop_table('custom_domain')
