"""single sign-on (SPEC §16): sso_connection, sso_login, saml_assertion_seen, sso_identity

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 19:00:00.000000

One identity-provider connection per organization (OIDC or SAML; its secrets sealed), the
sign-ins sent to the IdP and not yet back (single-use, bound to the browser), and the SAML
assertion IDs already accepted (kept until the assertion expires: no replay).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('sso_connection',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('protocol', S(length=8), nullable=False),
    sa.Column('oidc_issuer', S(length=500), nullable=False),
    sa.Column('oidc_client_id', S(length=255), nullable=False),
    sa.Column('oidc_client_secret_box', S(length=1000), nullable=False),
    sa.Column('saml_metadata_url', S(length=500), nullable=False),
    sa.Column('saml_metadata', sa.Text(), nullable=False),
    sa.Column('saml_idp_entity_id', S(length=500), nullable=False),
    sa.Column('saml_sp_key_box', sa.Text(), nullable=False),
    sa.Column('saml_sp_cert', sa.Text(), nullable=False),
    sa.Column('tested_at', T(), nullable=True),
    sa.Column('enforced', sa.Boolean(), nullable=False),
    sa.Column('updated_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('sso_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('protocol', S(length=8), nullable=False),
    sa.Column('state_hash', S(length=64), nullable=False),
    sa.Column('browser_hash', S(length=64), nullable=False),
    sa.Column('nonce', S(length=128), nullable=False),
    sa.Column('code_verifier_box', S(length=500), nullable=False),
    sa.Column('request_id', S(length=128), nullable=False),
    sa.Column('email', S(length=254), nullable=False),
    sa.Column('next_path', S(length=500), nullable=False),
    sa.Column('test_by_id', sa.Integer(), nullable=True),
    sa.Column('finish_hash', S(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', T(), nullable=False),
    sa.Column('expires_at', T(), nullable=False),
    sa.Column('used_at', T(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['test_by_id'], ['user.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state_hash')
    )
    with op.batch_alter_table('sso_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_login_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_login_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_login_finish_hash'), ['finish_hash'], unique=False)
    op.create_table('saml_assertion_seen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('assertion_id', S(length=200), nullable=False),
    sa.Column('expires_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'assertion_id')
    )
    with op.batch_alter_table('saml_assertion_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saml_assertion_seen_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saml_assertion_seen_expires_at'), ['expires_at'], unique=False)
    op.create_table('sso_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('subject', S(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'subject')
    )
    with op.batch_alter_table('sso_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_identity_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_identity_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sso_identity')
    op.drop_table('saml_assertion_seen')
    op.drop_table('sso_login')
    op.drop_table('sso_connection')
