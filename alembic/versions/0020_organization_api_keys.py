"""organization API keys: service accounts owned by an organization (SPEC §17)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 18:30:00.000000

A key belongs to its organization (deleted with it) and acts through a user row of its own
(`service_user_id`, deleted with the key's user); `created_by_id` is SET NULL when its
creator's account goes, so the key outlives whoever made it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organization_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('service_user_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('rotated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organization_api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_api_key_key_hash'), ['key_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_organization_api_key_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_api_key_service_user_id'), ['service_user_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('organization_api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_api_key_service_user_id'))
        batch_op.drop_index(batch_op.f('ix_organization_api_key_organization_id'))
        batch_op.drop_index(batch_op.f('ix_organization_api_key_key_hash'))

    op.drop_table('organization_api_key')
