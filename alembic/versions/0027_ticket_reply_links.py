"""ticket reply links: the requester's way back into a ticket's conversation

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 10:00:00.000000

SPEC §17 (customer reply → assignee): every staff reply's mail to the requester ends with a
link to `/support/ticket/<token>`, a signed-out page with the conversation and a reply form.
`ticket_reply_link` holds one row per mailed link: its ticket (gone with it), SHA-256 of the
token (never the token) and when it expires (90 days).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ticket_reply_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('ticket_reply_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_reply_link_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_reply_link_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('ticket_reply_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_reply_link_token_hash'))
        batch_op.drop_index(batch_op.f('ix_ticket_reply_link_ticket_id'))
    op.drop_table('ticket_reply_link')
