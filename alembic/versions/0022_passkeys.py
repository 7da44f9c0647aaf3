"""passkeys: WebAuthn credentials and their ceremonies' challenges

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:30:00.000000

SPEC §16: passkeys as a second factor and as a password-less sign-in. `passkey` holds the
credentials (public key, sign counter, name, last use); `passkey_challenge` the random,
single-use, short-lived challenges, stored hashed together with the browser's sign-in nonce.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'passkey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('credential_id', sqlmodel.sql.sqltypes.AutoString(length=1400), nullable=False),
        sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column('user_handle', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('transports', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkey_credential_id'), ['credential_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_passkey_user_id'), ['user_id'], unique=False)
    op.create_table(
        'passkey_challenge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('user_handle', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('passkey_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkey_challenge_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('passkey_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkey_challenge_token_hash'))
    op.drop_table('passkey_challenge')
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkey_user_id'))
        batch_op.drop_index(batch_op.f('ix_passkey_credential_id'))
    op.drop_table('passkey')
