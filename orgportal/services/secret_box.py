"""Small secrets stored encrypted, so a database dump alone does not reveal them (TOTP seeds).

Standard library only: HMAC-SHA256 as a PRF in counter mode for the key stream, then
HMAC-SHA256 over nonce and ciphertext (encrypt-then-MAC, truncated to 128 bits). Both keys
are derived from one master key: SECRET_KEY, or a random key made once in
DATA_DIR/secret.key (mode 0600) when none is configured.
"""

import base64
import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

from orgportal.config import settings

VERSION = "v1"
NONCE_BYTES = 16
TAG_BYTES = 16


class SecretBoxError(ValueError):
    """The box was altered, or the key changed since it was sealed."""


@cache
def _master_key() -> bytes:
    if settings.secret_key:
        return hashlib.sha256(settings.secret_key.encode()).digest()
    return _key_file(settings.resolve(settings.data_dir) / "secret.key")


def _key_file(path: Path) -> bytes:
    """The key in `path`, made there first if missing (O_EXCL: of workers starting together,
    one writes and the others read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    for _ in range(50):  # another worker may be between create and write
        text = path.read_text().strip()
        if len(text) == 64:
            return bytes.fromhex(text)
    raise RuntimeError(f"{path} does not hold a 64-hex-digit key")


def _subkey(purpose: bytes) -> bytes:
    return hmac.new(_master_key(), b"orgportal secret box " + purpose, hashlib.sha256).digest()


def _stream(nonce: bytes, length: int) -> bytes:
    key = _subkey(b"encrypt")
    blocks = (length + 31) // 32
    return b"".join(
        hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(blocks)
    )[:length]


def _tag(nonce: bytes, ciphertext: bytes) -> bytes:
    mac = hmac.new(_subkey(b"authenticate"), VERSION.encode() + nonce + ciphertext, hashlib.sha256)
    return mac.digest()[:TAG_BYTES]


def seal(plaintext: str) -> str:
    data = plaintext.encode()
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = bytes(a ^ b for a, b in zip(data, _stream(nonce, len(data)), strict=True))
    blob = nonce + ciphertext + _tag(nonce, ciphertext)
    return f"{VERSION}.{base64.urlsafe_b64encode(blob).decode()}"


def open_box(box: str) -> str:
    version, _, encoded = box.partition(".")
    try:
        blob = base64.urlsafe_b64decode(encoded.encode())
    except ValueError as exc:
        raise SecretBoxError("not a sealed secret") from exc
    if version != VERSION or len(blob) < NONCE_BYTES + TAG_BYTES:
        raise SecretBoxError("not a sealed secret")
    nonce, ciphertext, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(nonce, ciphertext)):
        raise SecretBoxError("the secret was altered or the key changed")
    stream = _stream(nonce, len(ciphertext))
    return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True)).decode()
