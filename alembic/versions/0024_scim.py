"""SCIM 2.0 provisioning: per-organization bearer tokens and provisioned users

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 19:00:00.000000

SPEC §16: an organization's identity provider provisions and deprovisions its members over
SCIM with a bearer token of that organization (only its hash stored). `scim_user` keeps the
provider's view of each person and the account it maps to, also while deprovisioned;
`scim_department` the provider's externalId of a department it manages as a group.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scim_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scim_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_token_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scim_token_token_hash'), ['token_hash'], unique=True)

    op.create_table('scim_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('user_name_key', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('account_created', sa.Boolean(), nullable=False),
    sa.Column('resource', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'user_id'),
    sa.UniqueConstraint('organization_id', 'user_name_key')
    )
    with op.batch_alter_table('scim_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_user_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scim_user_public_id'), ['public_id'], unique=True)

    op.create_table('scim_department',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id')
    )


def downgrade() -> None:
    op.drop_table('scim_department')

    with op.batch_alter_table('scim_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_user_public_id'))
        batch_op.drop_index(batch_op.f('ix_scim_user_organization_id'))
    op.drop_table('scim_user')

    with op.batch_alter_table('scim_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_token_token_hash'))
        batch_op.drop_index(batch_op.f('ix_scim_token_organization_id'))
    op.drop_table('scim_token')
