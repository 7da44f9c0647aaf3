"""WebAuthn passkeys of a user and the server-side challenges of their ceremonies (SPEC §16)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class Passkey(SQLModel, table=True):
    """One registered credential. `credential_id` and `public_key` are base64url (the
    credential id is what the browser names in an assertion; the COSE public key checks its
    signature). `sign_count` is the authenticator's counter as last seen: a later assertion
    must show a higher one (a lower or equal one means a cloned authenticator, refused),
    unless the authenticator keeps no counter (always 0). `user_handle` is the opaque
    WebAuthn user id the user's passkeys share (never the email): a usernameless sign-in
    names it, and it must be this row's."""

    __tablename__ = "passkey"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)
    credential_id: str = Field(max_length=1400, unique=True, index=True)
    public_key: str = Field(max_length=4000)
    user_handle: str = Field(max_length=100)
    sign_count: int = 0
    transports: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class PasskeyChallenge(SQLModel, table=True):
    """A ceremony's challenge, kept server-side as a hash of the challenge together with the
    browser's sign-in nonce: only the browser it was made for can answer it, once
    (`used_at`), before `expires_at`. `purpose`: "register" (for `user_id`, with the name
    chosen and the WebAuthn user id the options named), "sign_in" (usernameless: no user yet) or "second_step" (after the password of
    `user_id`)."""

    __tablename__ = "passkey_challenge"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    purpose: str = Field(max_length=16)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    name: str = Field(default="", max_length=60)
    user_handle: str = Field(default="", max_length=100)  # "register": the new passkey's
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
