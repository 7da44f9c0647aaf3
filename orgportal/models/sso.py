"""Single sign-on (SPEC §16): an organization's identity-provider connection, the sign-ins
under way, and the SAML assertions already used.

Secrets (the OIDC client secret, the SAML service provider's private key) are stored sealed
(`services/secret_box.py`), like the TOTP seeds.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class SsoProtocol(StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class SsoConnection(SQLModel, table=True):
    """One organization's identity provider. `tested_at` is the last successful "Test
    connection" sign-in since the settings last changed: enforcement needs it."""

    __tablename__ = "sso_connection"

    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, ondelete="CASCADE"
    )
    protocol: str = Field(default=SsoProtocol.OIDC, max_length=8)
    # OpenID Connect
    oidc_issuer: str = Field(default="", max_length=500)
    oidc_client_id: str = Field(default="", max_length=255)
    oidc_client_secret_box: str = Field(default="", max_length=1000)
    # SAML 2.0: the IdP's metadata (XML, as uploaded or fetched from its URL)
    saml_metadata_url: str = Field(default="", max_length=500)
    saml_metadata: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    saml_idp_entity_id: str = Field(default="", max_length=500)
    # our service provider's key pair (the key sealed; the certificate is public)
    saml_sp_key_box: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    saml_sp_cert: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tested_at: datetime | None = None
    enforced: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class SsoLogin(SQLModel, table=True):
    """A sign-in sent to the IdP and not yet back. `state_hash` (OIDC `state`, SAML
    `RelayState`) finds it; it is bound to the browser that started it (`browser_hash`) and
    used once. `test_by_id`: an Owner/Admin's "Test connection" rather than a sign-in."""

    __tablename__ = "sso_login"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    protocol: str = Field(max_length=8)
    state_hash: str = Field(max_length=64, unique=True)
    browser_hash: str = Field(max_length=64)
    nonce: str = Field(default="", max_length=128)  # OIDC id-token nonce
    code_verifier_box: str = Field(default="", max_length=500)  # OIDC PKCE verifier, sealed
    request_id: str = Field(default="", max_length=128, index=True)  # SAML AuthnRequest ID
    email: str = Field(default="", max_length=254)  # as typed on the sign-in page
    next_path: str = Field(default="", max_length=500)
    test_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    # SAML: the POST back is cross-site, so the browser check waits for a second step
    finish_hash: str = Field(default="", max_length=64, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class SamlAssertionSeen(SQLModel, table=True):
    """A SAML assertion ID already accepted, kept until the assertion expires: the same
    assertion posted again is refused (replay)."""

    __tablename__ = "saml_assertion_seen"
    __table_args__ = (UniqueConstraint("organization_id", "assertion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    assertion_id: str = Field(max_length=200)
    expires_at: datetime = Field(index=True)


class SsoIdentity(SQLModel, table=True):
    """Which account an IdP subject (OIDC `sub`, SAML NameID) signed in as: a later sign-in
    finds the same account even after the address changed at the IdP."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("organization_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
