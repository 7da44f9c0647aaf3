"""sessions remember the identity provider that opened them (Enforce SSO, SPEC §16)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 22:00:00.000000

Turning on an organization's Enforce SSO ends the password and passkey sessions of the
people at its company domains; the sessions its own identity provider opened are kept.
`user_session.sso_organization_id` records which provider opened a session, and the sign-in
ticket (`user_token`) carries it from the provider's answer to the session. Sessions opened
before this revision have none: they count as password sessions.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('user_session', sa.Column('sso_organization_id', sa.Integer(), nullable=True))
    op.add_column('user_token', sa.Column('sso_organization_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_token') as batch_op:
        batch_op.drop_column('sso_organization_id')
    with op.batch_alter_table('user_session') as batch_op:
        batch_op.drop_column('sso_organization_id')
