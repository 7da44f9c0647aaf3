"""outbox: kind, user and organization of each mail, and failed_at for given-up messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 12:00:00.000000

`kind` and `user_id` let account mails be throttled per address and per user by counting
rows; `organization_id` says whose Owner/Admins hear about a mail that is given up after
MAIL_MAX_ATTEMPTS (`failed_at`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default='',
        ))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('failed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key(
            'fk_outbox_message_user_id_user', 'user', ['user_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_foreign_key(
            'fk_outbox_message_organization_id_organization',
            'organization',
            ['organization_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_index(batch_op.f('ix_outbox_message_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_outbox_message_to_address'), ['to_address'], unique=False
        )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_to_address'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_user_id'))
        batch_op.drop_constraint(
            'fk_outbox_message_organization_id_organization', type_='foreignkey'
        )
        batch_op.drop_constraint('fk_outbox_message_user_id_user', type_='foreignkey')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('organization_id')
        batch_op.drop_column('user_id')
        batch_op.drop_column('kind')
