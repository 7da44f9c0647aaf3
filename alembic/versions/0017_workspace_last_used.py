"""remember each user's last workspace, and when each membership was last opened

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-13 12:00:00.000000

SPEC §1: signing in reopens the workspace last used, and the switcher lists the most
recent first. Until now the active workspace lived only in the session, so every sign-in
opened the Personal Workspace. Existing rows are filled from the sessions already there:
a user's last workspace is the one their most recent session had open (if they are still
a member of it), and a membership was last used when a session that had it open was last
seen, else when the user joined (joining opened it).

Plain ADD/DROP COLUMN on both dialects (SQLite >= 3.35): a batch rebuild of `user` would
lose its AUTOINCREMENT (see 0007), and `last_org_id` needs no foreign key (every read
checks the membership).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('user', sa.Column('last_org_id', sa.Integer(), nullable=True))
    op.add_column(
        'membership',
        sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.execute(
        'UPDATE membership SET last_used_at = COALESCE(('
        ' SELECT MAX(COALESCE(s.last_seen_at, s.created_at)) FROM user_session s'
        ' WHERE s.user_id = membership.user_id'
        ' AND s.active_org_id = membership.organization_id'
        '), joined_at)'
    )
    op.execute(
        'UPDATE "user" SET last_org_id = ('
        ' SELECT m.organization_id FROM membership m'
        ' WHERE m.user_id = "user".id AND m.organization_id = ('
        '  SELECT s.active_org_id FROM user_session s WHERE s.user_id = "user".id'
        '  ORDER BY COALESCE(s.last_seen_at, s.created_at) DESC, s.id DESC LIMIT 1'
        ' ))'
    )


def downgrade() -> None:
    op.drop_column('membership', 'last_used_at')
    op.drop_column('user', 'last_org_id')
