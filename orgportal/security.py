"""Passwords and tokens. The only module that imports passlib."""

import hashlib
import secrets

from passlib.hash import argon2

# argon2id with 64 MiB of memory, 3 passes and 4 lanes (about 0.1 s here): stated, not left
# to passlib's defaults, so an upgrade cannot weaken it unnoticed. Each hash records its own
# parameters, so a hash made with other ones (an older default) still verifies.
PASSWORD_HASHER = argon2.using(type="ID", memory_cost=65536, rounds=3, parallelism=4)


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


# A real hash of a random password, verified on unknown emails so timing does not reveal
# which addresses have accounts.
_DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    PASSWORD_HASHER.verify(password, _DUMMY_HASH)


def new_token() -> str:
    """A URL-safe token carrying 32 random bytes."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens have 256 bits of entropy, so an unsalted SHA-256 is a safe lookup key."""
    return hashlib.sha256(token.encode()).hexdigest()
