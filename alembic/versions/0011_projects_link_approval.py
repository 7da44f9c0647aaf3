"""projects and link approval

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:00:00.000000

`project` groups links inside one workspace (unique name per workspace through
`workspace_key` + `name_key`); `link.project_id` (SET NULL when the project goes) and the
link approval columns behind `require_approval_for_links`.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('workspace_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_key', 'name_key', name='uq_project_workspace_name')
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column(
            'pending_approval', sa.Boolean(), nullable=False, server_default=sa.false()
        ))
        batch_op.add_column(sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_link_project_id_project', 'project', ['project_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_foreign_key(
            'fk_link_approved_by_id_user', 'user', ['approved_by_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_index(batch_op.f('ix_link_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_pending_approval'), ['pending_approval'], unique=False)
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.alter_column('pending_approval', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_pending_approval'))
        batch_op.drop_index(batch_op.f('ix_link_project_id'))
        batch_op.drop_constraint('fk_link_approved_by_id_user', type_='foreignkey')
        batch_op.drop_constraint('fk_link_project_id_project', type_='foreignkey')
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('pending_approval')
        batch_op.drop_column('project_id')

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_user_id'))
        batch_op.drop_index(batch_op.f('ix_project_organization_id'))

    op.drop_table('project')
