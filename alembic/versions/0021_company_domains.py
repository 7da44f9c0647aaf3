"""company domains (SPEC §16): company_domain, company_join_settings, join_request

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:20:38.067191

A company domain may be pending in several organizations but verified in one only: the
partial unique index `ux_company_domain_verified` (SQLite and PostgreSQL both have them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('company_domain',
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
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'domain')
    )
    with op.batch_alter_table('company_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_domain_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_company_domain_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ux_company_domain_verified', ['domain'], unique=True, sqlite_where=sa.text("status = 'verified'"), postgresql_where=sa.text("status = 'verified'"))

    op.create_table('company_join_settings',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('default_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'user_id')
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_request_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_join_request_status'))
        batch_op.drop_index(batch_op.f('ix_join_request_organization_id'))

    op.drop_table('join_request')
    op.drop_table('company_join_settings')
    with op.batch_alter_table('company_domain', schema=None) as batch_op:
        batch_op.drop_index('ux_company_domain_verified', sqlite_where=sa.text("status = 'verified'"), postgresql_where=sa.text("status = 'verified'"))
        batch_op.drop_index(batch_op.f('ix_company_domain_organization_id'))
        batch_op.drop_index(batch_op.f('ix_company_domain_domain'))

    op.drop_table('company_domain')
