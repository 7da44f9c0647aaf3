"""notification mails: per-user opt-outs, usage alerts sent, and an HTML body in the outbox

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 18:30:00.000000

SPEC §17: each kind of notification can be turned off per user (`notification_opt_out`,
absent means on); a usage threshold is announced once per period (`usage_alert`); mails
go out as HTML and plain text (`outbox_message.body_html`, "" for plain-only mails, so
every message already queued stays as it was). Plain ADD COLUMN on both dialects.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notification_opt_out',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'kind'),
    )
    op.create_table(
        'usage_alert',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'metric', 'threshold', 'period'),
    )
    op.add_column(
        'outbox_message',
        sa.Column(
            'body_html', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''
        ),
    )


def downgrade() -> None:
    op.drop_column('outbox_message', 'body_html')
    op.drop_table('usage_alert')
    op.drop_table('notification_opt_out')
