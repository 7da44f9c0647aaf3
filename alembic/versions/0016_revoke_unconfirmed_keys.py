"""revoke API keys of accounts whose address was never confirmed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 12:00:00.000000

An unconfirmed account can no longer create API keys: a key would outlive its owner proving
the address (account pre-hijacking). Keys made before that rule get the same treatment.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        'UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE revoked_at IS NULL AND user_id '
        'IN (SELECT id FROM "user" WHERE email_confirmed_at IS NULL)'
    )


def downgrade() -> None:
    """Revoked keys stay revoked: which ones this revoked is not recorded."""
