"""Passwords and tokens. The only module that imports passlib."""

import hashlib
import secrets

from passlib.hash import argon2


def hash_password(password: str) -> str:
    return argon2.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return argon2.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


# A real hash of a random password, verified on unknown emails so timing does not reveal
# which addresses have accounts.
_DUMMY_HASH = argon2.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    argon2.verify(password, _DUMMY_HASH)


def new_token() -> str:
    """A URL-safe token carrying 32 random bytes."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens have 256 bits of entropy, so an unsalted SHA-256 is a safe lookup key."""
    return hashlib.sha256(token.encode()).hexdigest()
