"""links, My Files, personal plans (subscription.user_id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:47:09.075827
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target_url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_link_owner_workspace', ['owner_id', 'organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_slug'), ['slug'], unique=True)

    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_stored_file_owner_workspace', ['owner_id', 'organization_id'], unique=False)

    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('organization_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_subscription_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_subscription_user_id_user', 'user', ['user_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_constraint('fk_subscription_user_id_user', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_subscription_user_id'))
        batch_op.alter_column('organization_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('user_id')

    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index('ix_stored_file_owner_workspace')
        batch_op.drop_index(batch_op.f('ix_stored_file_organization_id'))

    op.drop_table('stored_file')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_slug'))
        batch_op.drop_index('ix_link_owner_workspace')
        batch_op.drop_index(batch_op.f('ix_link_organization_id'))

    op.drop_table('link')
